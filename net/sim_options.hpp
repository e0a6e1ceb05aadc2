// Settings of the `sim` model: latency, fault rates and tool calling. A
// value type shared by the in-process sim model and the fake OpenAI
// server's random mode.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace endure::net {

/// Every decision the sim makes (answer text, latency, fault) is a function
/// of seed, request and attempt: the same call gives the same outcome, and
/// a retry (attempt + 1) draws again.
struct sim_options {
  /// Default: 0.
  std::uint64_t seed = 0;
  /// Base latency of every answer. Default: 0 ms.
  std::chrono::milliseconds latency{0};
  /// Extra latency drawn uniformly from [0, latency_jitter]. Default: 0 ms.
  std::chrono::milliseconds latency_jitter{0};
  /// Fraction of calls answered 429 with Retry-After. Default: 0.
  double rate_limit_rate = 0.0;
  /// The Retry-After the 429s carry. Default: 1000 ms.
  std::chrono::milliseconds retry_after{1000};
  /// Fraction of calls answered 500. Default: 0.
  double server_error_rate = 0.0;
  /// Fraction of calls that never answer: the caller's timeout fires.
  /// Default: 0.
  double timeout_rate = 0.0;
  /// Fraction of calls answered 200 with a truncated, non-JSON body.
  /// Default: 0.
  double malformed_rate = 0.0;
  /// Prompts estimated above this many tokens (chars / 4) fail with
  /// context_length_exceeded, as a real model's would. Default: 32768.
  std::uint64_t context_window_tokens = 32768;
  /// Length of the sim's embedding vectors. Default: 64.
  std::size_t embedding_dimensions = 64;
  /// Most tool calls in one assistant message: the next ones of the sim's
  /// plan, so an agent loop meets parallel calls. A `[sim: parallel N]`
  /// directive in the prompt overrides it. 0 counts as 1. Default: 1.
  std::size_t parallel_tool_calls = 1;
};

} // namespace endure::net
