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

/// Answer to a POST /v1/chat/completions with `request_body`. Text derived
/// from the last user message; a tool call when tools are offered and the
/// last message is the user's; JSON valid for simple schemas (object, array,
/// string, number, integer, boolean, enum) when response_format asks, with
/// "confidence" fields in [0.55, 0.98]. Model name: "sim".
sim_reply simulate_chat(const sim_options& options, std::string_view request_body,
                        std::uint32_t attempt);

/// Answer to a POST /v1/embeddings: unit vectors of bag-of-hashed-words, so
/// texts sharing words are close in cosine distance.
sim_reply simulate_embeddings(const sim_options& options, std::string_view request_body,
                              std::uint32_t attempt);

} // namespace endure::net
