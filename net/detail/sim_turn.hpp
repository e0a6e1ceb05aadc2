// What the sim model does on one turn of a conversation: call tools (which,
// with which arguments), or answer, and with what confidence. A pure
// function of the request (prompt, tools offered, the calls already made
// and their results), the options' seed and the turn's rng; the rules are
// in net/README.md ("Tool calling"). Internal to net/sim_engine.cpp; any
// thread.
#pragma once

#include "endure/net/chat_types.hpp"
#include "endure/net/detail/sim_content.hpp"
#include "endure/net/sim_options.hpp"

#include <string>
#include <vector>

namespace endure::net::detail {

struct sim_turn {
  /// The tool calls of this turn; empty for a final answer.
  std::vector<tool_call> calls;
  /// The final answer's text, or, beside calls, a short note on them.
  std::string text;
  /// In [0,1]: the same on every turn of a conversation.
  double confidence = 0.0;
};

/// The next turn of `request`'s conversation.
sim_turn sim_next_turn(const chat_request& request, const sim_options& options, sim_rng& rng);

/// The confidence of `request`'s conversation: `[sim: confidence x]` if
/// given; else drawn from (seed, system and user text): in [0.15, 0.45]
/// when that text has the word "ambiguous", else in [0.55, 0.98].
double sim_confidence(const chat_request& request, std::uint64_t seed);

/// The message content for `turn`. Tool calls: empty, or
/// {"answer": note, "confidence": c} when the response_format asks for a
/// confidence. Final answer: the text; with a response_format, JSON for
/// its schema (its top-level "confidence" set to the turn's and a string
/// "answer" to the text).
std::string sim_content_of(const chat_request& request, const sim_turn& turn, sim_rng& rng);

} // namespace endure::net::detail
