// The values a condition reads from a tool call's arguments and how it
// compares them (internal to actors/gateway): RFC 6901 pointers, and the
// gate's equality and ordering, in which values of different JSON types
// are never equal and never ordered and numbers compare by value. Nothing
// here throws on any argument a model could write. Any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "endure/persistence/error.hpp"

namespace endure::gateway::detail {

/// The reference tokens of an RFC 6901 pointer ("" -> none, "/a~1b/0" ->
/// "a/b", "0"), or invalid_argument saying why it is not one.
expected<std::vector<std::string>> pointer_tokens(const std::string& pointer);

/// The value `tokens` points at in `args`, or nullptr. Array indexes are
/// decimal without leading zeros; "-" (past the end) never resolves.
const nlohmann::json* resolve(const nlohmann::json& args, const std::vector<std::string>& tokens);

/// Deep equality where values of different types are never equal and
/// numbers compare by value (1 == 1.0, exactly for large integers).
bool same_value(const nlohmann::json& a, const nlohmann::json& b);

/// -1, 0 or 1 for two numbers or two strings (bytewise); nullopt for any
/// other pair, which is unordered.
std::optional<int> order(const nlohmann::json& a, const nlohmann::json& b);

} // namespace endure::gateway::detail
