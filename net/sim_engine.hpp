// The `sim` model's brain: a pure function from (options, request body,
// attempt) to the HTTP answer an OpenAI-compatible server would give, fault
// and latency included. The in-process sim_model and the fake server's
// random mode both call it, so the sim behaves the same in-process and over
// the wire. Deterministic: no clock, no global state; any thread.
#pragma once

#include "endure/net/http_types.hpp"
#include "endure/net/sim_options.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace endure::net {

enum class sim_fault : std::uint8_t {
  none,            ///< a normal answer (or a 400 for an invalid request)
  rate_limited,    ///< 429 with Retry-After and retry-after-ms
  server_error,    ///< 500
  timeout,         ///< no answer at all: the caller's deadline must fire
  malformed,       ///< 200 with the first half of a valid body
  context_length,  ///< 400 context_length_exceeded (prompt above the window)
};

std::string_view to_string(sim_fault f) noexcept;

struct sim_reply {
  sim_fault fault = sim_fault::none;
  /// What to send; meaningless when fault == timeout.
  http_response response;
  /// How long to wait before answering.
  std::chrono::milliseconds delay{0};
};

/// Answer to a POST /v1/chat/completions with `request_body`: the next turn
/// of its conversation. With tools offered, the calls the conversation has
/// not made yet (one per turn, or up to options.parallel_tool_calls), a
/// corrected retry after an invalid_arguments or unknown_tool result, no
/// second call of a rejected tool, then a text answer naming what each tool
/// gave; `[sim: ...]` directives in system and user messages script it
/// (net/README.md). Without tools, text derived from the last user message.
/// JSON valid for simple schemas (object, array, string, number, integer,
/// boolean, enum) when response_format asks; a "confidence" the schema asks
/// for is the conversation's (sim_turn.hpp), on tool-calling turns too.
/// Model name: "sim".
sim_reply simulate_chat(const sim_options& options, std::string_view request_body,
                        std::uint32_t attempt);

/// Answer to a POST /v1/embeddings: unit vectors of bag-of-hashed-words, so
/// texts sharing words are close in cosine distance.
sim_reply simulate_embeddings(const sim_options& options, std::string_view request_body,
                              std::uint32_t attempt);

} // namespace endure::net
