// A structured condition over a tool call's arguments: when a policy gates
// a tool only for some calls ("publish, when /amount > 1000"). No
// expression strings: a condition is data, either one comparison
// {pointer, op, value} or a combination all / any / not of conditions.
//
// The rules a policy author relies on:
// * `pointer` is an RFC 6901 JSON pointer into the arguments ("" is the
//   whole arguments value, "/to", "/items/0/price").
// * A pointer that does not resolve makes every comparison false, except
//   `exists`, which is exactly that test.
// * Values of different JSON types are never equal and never ordered: eq,
//   in and the orderings gt/ge/lt/le are false. Integers and floats are both
//   numbers (1 == 1.0). gt/ge/lt/le order two numbers or two strings
//   (bytewise); anything else is unordered, so false.
// * ne and not_in are the negations of eq and in, for a pointer that
//   resolves: "/env ne staging" holds for "prod" and for 5. (So an argument
//   of an unexpected type still gates; a missing one never matches.)
// * `matches` searches a string argument with an RE2 pattern (linear time:
//   a model-written argument cannot stall the gate); anchor with ^ and $.
//   A non-string argument does not match.
// Evaluation never throws. Conditions are immutable and cheap to copy
// (shared nodes); any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "endure/persistence/error.hpp"

namespace endure::gateway {

enum class condition_op : std::uint8_t { gt, ge, lt, le, eq, ne, in, not_in, exists, matches };

/// "gt", "not_in", ...
std::string_view to_string(condition_op op) noexcept;

/// The operator named `name`, or nullopt.
std::optional<condition_op> parse_condition_op(std::string_view name) noexcept;

class condition {
public:
  // -- construction (errors are invalid_argument, without a location: the
  //    policy loader adds the file, line, column and field) ----------------

  /// {pointer, op, value} for every op but `exists`. Refused: a pointer that
  /// is not a JSON pointer; gt/ge/lt/le with a value that is not a number or
  /// a string; in/not_in with a value that is not an array; `matches` with a
  /// value that is not a string or not a valid RE2 pattern; `exists` (use
  /// exists()). in/not_in lists are sets: their order and repeats are
  /// dropped.
  static expected<condition> compare(std::string pointer, condition_op op,
                                     const nlohmann::json& value);

  /// {pointer, op: exists}: holds when the pointer resolves.
  static expected<condition> exists(std::string pointer);

  /// Holds when every one of `parts` holds. Refused when empty.
  static expected<condition> all(std::vector<condition> parts);

  /// Holds when at least one of `parts` holds. Refused when empty.
  static expected<condition> any(std::vector<condition> parts);

  /// Holds when `part` does not.
  static condition negate(condition part);

  // -- evaluation ---------------------------------------------------------

  /// True if the condition holds for `args`. When it does and `matched` is
  /// given, appends the comparisons that made it hold, for the reviewer,
  /// with the argument's value: `/amount gt 1000 (is 5000)`.
  bool holds(const nlohmann::json& args, std::vector<std::string>* matched = nullptr) const;

  // -- forms ----------------------------------------------------------------

  /// The canonical JSON form: {"pointer", "op", "value"} (no "value" for
  /// exists), {"all": [...]}, {"any": [...]} or {"not": c}. The parts of
  /// all/any, and the values of in/not_in, are sorted by their canonical
  /// text and repeats dropped, so the same condition written in another
  /// order has the same form (and hash). describe() and holds() keep the
  /// order as written: `any` reports the first part that held.
  nlohmann::json to_json() const;

  /// One line for people: `all(/amount gt 1000, not(/draft eq true))`.
  std::string describe() const;

  /// agent::canonical_json(to_json()), computed once.
  const std::string& canonical_text() const noexcept;

  /// How deeply all/any/not nest (a comparison is 1).
  int depth() const noexcept;

  struct node;  // defined in condition.cpp

private:
  explicit condition(std::shared_ptr<const node> n) : node_(std::move(n)) {}
  /// all (any_of false) or any of `parts`.
  static expected<condition> combine(bool any_of, std::vector<condition> parts);
  std::shared_ptr<const node> node_;
};

} // namespace endure::gateway
