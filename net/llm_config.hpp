// Where the LLM lives and how to talk to it. A value type, read once when a
// backend is made (make_llm_backend in llm_backend.hpp).
#pragma once

#include "endure/net/http_types.hpp"
#include "endure/net/sim_options.hpp"

#include <chrono>
#include <cstddef>
#include <string>

namespace endure::net {

struct llm_config {
  /// OpenAI-compatible API root, e.g. "https://api.openai.com/v1",
  /// "http://127.0.0.1:8080/v1" (llama.cpp server), ".../v1" (vLLM,
  /// Ollama). Empty selects the `sim` model. Default: empty.
  std::string base_url;
  /// Chat model name sent to the server. Default: empty ("sim" for the sim;
  /// llama.cpp ignores it; OpenAI, vLLM and Ollama need one).
  std::string model;
  /// Embeddings model name. Default: empty (falls back to `model`).
  std::string embedding_model;
  /// Name of the environment variable holding the API key, read when the
  /// backend is made. The key itself is never logged nor put in messages.
  /// Empty or unset variable: no Authorization header. Default:
  /// "OPENAI_API_KEY".
  std::string api_key_env = "OPENAI_API_KEY";
  /// Whole-call deadline (DNS to the last byte of the answer) unless a
  /// request sets its own. Default: 60 s.
  std::chrono::milliseconds request_timeout{60'000};
  /// Largest response accepted (fatal beyond, so a body that never ends
  /// ends there). Default: 8 MiB.
  std::size_t max_response_bytes = 8u << 20;
  /// USD per 1000 prompt tokens, for chat_response::cost_usd. Default: 0.
  double input_price_per_1k = 0.0;
  /// USD per 1000 completion tokens. Default: 0.
  double output_price_per_1k = 0.0;
  /// HTTPS verification. Default: system CA store, peer verified.
  tls_options tls;
  /// Sent with every call (e.g. OpenAI-Organization). Default: none.
  http_headers extra_headers;
  /// Used when base_url is empty. Default: no latency, no faults.
  sim_options sim;
};

/// USD cost of `usage` at the config's prices.
inline double price_of(std::uint64_t prompt_tokens, std::uint64_t completion_tokens,
                       const llm_config& config) noexcept {
  return static_cast<double>(prompt_tokens) * config.input_price_per_1k / 1000.0 +
         static_cast<double>(completion_tokens) * config.output_price_per_1k / 1000.0;
}

} // namespace endure::net
