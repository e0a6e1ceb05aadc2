// The question the sim asks a person through the built-in ask_human tool:
// readable text instead of schema filler, so the person sees what the
// model is unsure about and answers in their own words. Pure; any thread;
// internal to the sim (net/README.md, "Tool calling").
#pragma once

#include "endure/net/chat_types.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace endure::net::detail {

/// ask_human's arguments for `request`, as JSON text: an open question
///   {"question": "Your request is not clear to me (confidence 0.23). What
///    should I focus on: <the first 12 words of the last user message>?",
///    "context": "<one line: the other tools offered>"}
/// (with "I want to check with you before I go on" when `confidence` is
/// 0.5 or more, as when `[sim: call ask_human]` scripts the call). The
/// context is left out when `schema_json` does not take it; nullopt when
/// the schema takes neither shape (it requires choices, say): the caller
/// then generates arguments from the schema as for any tool.
std::optional<std::string> sim_question(const chat_request& request, std::string_view schema_json,
                                        double confidence);

} // namespace endure::net::detail
