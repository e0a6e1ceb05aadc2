// The one interface workflow code uses for LLM calls. Two implementations:
// openai_client (any OpenAI-compatible HTTP endpoint) and sim_model (the
// in-process `sim`, the default when no endpoint is configured).
//
// Threads: calls may be made from any thread and return at once; the
// callback runs exactly once, whatever the server answered, normally later
// on a thread owned by the backend (a request rejected before sending, e.g.
// a schema string that is not JSON, may be answered on the caller's
// thread), and must not block (an actor turns it into a message). A call
// that throws (only possible before anything was started) never runs its
// callback. Every call ends by its deadline: request.timeout, else
// default_timeout(). Destroying a backend
// completes calls in flight with a retryable "shut down" failure (the sim
// drops pending timers the same way) and joins its thread; do not destroy it
// from inside one of its callbacks.
//
// Results: result<T> holds the answer or an endure::failure whose class
// (retryable, rate_limited, fatal, context_length_exceeded) retry policies
// read; see http_failure.hpp for how answers are classified.
#pragma once

#include "endure/net/chat_types.hpp"
#include "endure/net/embedding_types.hpp"
#include "endure/net/llm_config.hpp"
#include "endure/net/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace endure::net {

class llm_backend {
public:
  using chat_callback = std::function<void(result<chat_response>)>;
  using embed_callback = std::function<void(result<embedding_response>)>;

  virtual ~llm_backend() = default;

  /// What users see: "sim", or "openai-compatible <base_url> <model>".
  virtual const std::string& name() const noexcept = 0;

  /// One chat completion.
  virtual void chat(chat_request request, chat_callback done) = 0;

  /// One embeddings call (all inputs in one request).
  virtual void embed(embedding_request request, embed_callback done) = 0;

  /// The deadline of a call whose request sets no timeout (the backend
  /// answers with a retryable timeout by then); zero if it has none.
  /// ctx.llm derives its default attempt deadline from it. Default: zero.
  virtual std::chrono::milliseconds default_timeout() const noexcept {
    return std::chrono::milliseconds{0};
  }
};

/// The sim model when config.base_url is empty, an openai_client otherwise.
std::unique_ptr<llm_backend> make_llm_backend(const llm_config& config);

} // namespace endure::net
