// condition: construction (validated once), evaluation (never throws) and
// the canonical form the policy hash is computed from. RE2 stays in here.
#include "endure/actors/gateway/condition.hpp"

#include <stdexcept>
#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/gateway/detail/argument_values.hpp"

namespace endure::gateway {

using nlohmann::json;

struct condition::node {
  enum class kind : std::uint8_t { compare, all, any, negate };
  kind k = kind::compare;
  // compare
  std::string pointer;
  std::vector<std::string> tokens;  // the pointer's reference tokens, unescaped
  condition_op op = condition_op::eq;
  json value;                       // unused for exists
  std::shared_ptr<const RE2> pattern;
  // all, any, negate
  std::vector<condition> parts;  // as written: describe() and holds() follow this order
  // both
  std::string canonical;  // canonical_json(to_json()): sorts and dedups parts
  int depth = 1;
};

namespace {

using detail::order;
using detail::pointer_tokens;
using detail::resolve;
using detail::same_value;

constexpr std::array<std::string_view, 10> op_names{"gt", "ge", "lt", "le", "eq",
                                                    "ne", "in", "not_in", "exists", "matches"};

error invalid(std::string message) {
  return make_error(errc::invalid_argument, std::move(message));
}

bool contains_value(const json& list, const json& v) {
  return std::any_of(list.begin(), list.end(), [&](const json& e) { return same_value(e, v); });
}

bool compare_holds(const condition::node& n, const json* arg) {
  if (n.op == condition_op::exists)
    return arg != nullptr;
  if (!arg)
    return false;
  auto ordered = [&](auto pred) {
    auto c = order(*arg, n.value);
    return c && pred(*c);
  };
  switch (n.op) {
    case condition_op::gt:
      return ordered([](int c) { return c > 0; });
    case condition_op::ge:
      return ordered([](int c) { return c >= 0; });
    case condition_op::lt:
      return ordered([](int c) { return c < 0; });
    case condition_op::le:
      return ordered([](int c) { return c <= 0; });
    case condition_op::eq:
      return same_value(*arg, n.value);
    case condition_op::ne:
      return !same_value(*arg, n.value);
    case condition_op::in:
      return contains_value(n.value, *arg);
    case condition_op::not_in:
      return !contains_value(n.value, *arg);
    case condition_op::matches:
      return arg->is_string() && RE2::PartialMatch(arg->get_ref<const std::string&>(), *n.pattern);
    case condition_op::exists:
      break;
  }
  return false;
}

/// Compact JSON for a reviewer, at most ~80 bytes, never throwing on text
/// that is not UTF-8 (a model wrote it) and never cutting a character.
std::string shown(const json& v) {
  auto text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t limit = 80;
  if (text.size() <= limit)
    return text;
  auto cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut) + "...";
}

std::string describe_pointer(const std::string& pointer) {
  return pointer.empty() ? "(arguments)" : pointer;
}

/// The canonical forms of `parts` as a set: sorted by canonical text,
/// repeats dropped (all and any mean the same in any order).
nlohmann::json canonical_set(const std::vector<condition>& parts) {
  std::vector<const condition*> sorted;
  for (auto& p : parts)
    sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const condition* a, const condition* b) {
    return a->canonical_text() < b->canonical_text();
  });
  auto out = json::array();
  for (std::size_t i = 0; i < sorted.size(); ++i)
    if (i == 0 || sorted[i]->canonical_text() != sorted[i - 1]->canonical_text())
      out.push_back(sorted[i]->to_json());
  return out;
}

/// Refuses a pointer or value that has no canonical text (not UTF-8, not
/// finite), so
/// every later canonical_json of this condition succeeds.
expected<void> has_canonical_text(const std::string& pointer, const json& value) {
  try {
    agent::canonical_json(pointer);
    agent::canonical_json(value);
    return {};
  } catch (const std::invalid_argument& e) {  // not UTF-8, NaN, infinity, binary
    return invalid(std::string{"pointer or value has no JSON text (not valid UTF-8, or not a "
                               "finite number): "} + e.what());
  }
}

} // namespace

std::string_view to_string(condition_op op) noexcept {
  return op_names[static_cast<std::size_t>(op)];
}

std::optional<condition_op> parse_condition_op(std::string_view name) noexcept {
  for (std::size_t i = 0; i < op_names.size(); ++i)
    if (op_names[i] == name)
      return static_cast<condition_op>(i);
  return std::nullopt;
}

expected<condition> condition::compare(std::string pointer, condition_op op, const json& value) {
  if (auto ok = has_canonical_text(pointer, value); !ok)
    return ok.error();
  auto tokens = pointer_tokens(pointer);
  if (!tokens)
    return tokens.error();
  auto n = std::make_shared<node>();
  n->pointer = std::move(pointer);
  n->tokens = std::move(*tokens);
  n->op = op;
  n->value = value;
  switch (op) {
    case condition_op::gt:
    case condition_op::ge:
    case condition_op::lt:
    case condition_op::le:
      if (!value.is_number() && !value.is_string())
        return invalid(std::string{to_string(op)} + " compares with a number or a string, not "
                       + shown(value));
      break;
    case condition_op::in:
    case condition_op::not_in: {
      if (!value.is_array())
        return invalid(std::string{to_string(op)} + " needs a list of values, e.g. [a, b], not "
                       + shown(value));
      json set = json::array();
      for (auto& v : value)
        if (!contains_value(set, v))
          set.push_back(v);
      std::sort(set.begin(), set.end(), [](const json& a, const json& b) {
        return agent::canonical_json(a) < agent::canonical_json(b);
      });
      n->value = std::move(set);
      break;
    }
    case condition_op::matches: {
      if (!value.is_string())
        return invalid("matches needs a pattern string, not " + shown(value));
      RE2::Options options;
      options.set_log_errors(false);  // the error is returned, not printed
      auto re = std::make_shared<RE2>(value.get<std::string>(), options);
      if (!re->ok())
        return invalid("pattern " + shown(value) + " is not a valid RE2 pattern: " + re->error());
      n->pattern = std::move(re);
      break;
    }
    case condition_op::exists:
      return invalid("exists takes no value: write {pointer: ..., op: exists}");
    default:
      break;
  }
  condition c{n};
  n->canonical = agent::canonical_json(c.to_json());
  return c;
}

expected<condition> condition::exists(std::string pointer) {
  if (auto ok = has_canonical_text(pointer, nullptr); !ok)
    return ok.error();
  auto tokens = pointer_tokens(pointer);
  if (!tokens)
    return tokens.error();
  auto n = std::make_shared<node>();
  n->pointer = std::move(pointer);
  n->tokens = std::move(*tokens);
  n->op = condition_op::exists;
  condition c{n};
  n->canonical = agent::canonical_json(c.to_json());
  return c;
}

expected<condition> condition::combine(bool any_of, std::vector<condition> parts) {
  if (parts.empty())
    return invalid(std::string{any_of ? "any" : "all"} + " needs at least one condition");
  auto n = std::make_shared<node>();
  n->k = any_of ? node::kind::any : node::kind::all;
  n->parts = std::move(parts);
  for (auto& p : n->parts)
    n->depth = std::max(n->depth, p.depth() + 1);
  condition c{n};
  n->canonical = agent::canonical_json(c.to_json());
  return c;
}

expected<condition> condition::all(std::vector<condition> parts) {
  return combine(false, std::move(parts));
}

expected<condition> condition::any(std::vector<condition> parts) {
  return combine(true, std::move(parts));
}

condition condition::negate(condition part) {
  auto n = std::make_shared<node>();
  n->k = node::kind::negate;
  n->depth = part.depth() + 1;
  n->parts.push_back(std::move(part));
  condition c{n};
  n->canonical = agent::canonical_json(c.to_json());
  return c;
}

bool condition::holds(const json& args, std::vector<std::string>* matched) const {
  auto& n = *node_;
  switch (n.k) {
    case node::kind::compare: {
      auto* arg = resolve(args, n.tokens);
      if (!compare_holds(n, arg))
        return false;
      if (matched)
        matched->push_back(describe() + (arg && n.op != condition_op::exists
                                           ? " (is " + shown(*arg) + ")"
                                           : std::string{}));
      return true;
    }
    case node::kind::all: {
      std::vector<std::string> found;
      for (auto& p : n.parts)
        if (!p.holds(args, matched ? &found : nullptr))
          return false;
      if (matched)
        matched->insert(matched->end(), found.begin(), found.end());
      return true;
    }
    case node::kind::any:
      return std::any_of(n.parts.begin(), n.parts.end(),
                         [&](const condition& p) { return p.holds(args, matched); });
    case node::kind::negate:
      if (n.parts[0].holds(args))
        return false;
      if (matched)
        matched->push_back(describe());
      return true;
  }
  return false;
}

json condition::to_json() const {
  auto& n = *node_;
  switch (n.k) {
    case node::kind::compare: {
      json out{{"pointer", n.pointer}, {"op", std::string{to_string(n.op)}}};
      if (n.op != condition_op::exists)
        out["value"] = n.value;
      return out;
    }
    case node::kind::all:
      return {{"all", canonical_set(n.parts)}};
    case node::kind::any:
      return {{"any", canonical_set(n.parts)}};
    case node::kind::negate:
      return {{"not", n.parts[0].to_json()}};
  }
  return nullptr;
}

std::string condition::describe() const {
  auto& n = *node_;
  auto joined = [&](const char* name) {
    std::string out = std::string{name} + "(";
    for (std::size_t i = 0; i < n.parts.size(); ++i)
      out += (i ? ", " : "") + n.parts[i].describe();
    return out + ")";
  };
  switch (n.k) {
    case node::kind::compare:
      if (n.op == condition_op::exists)
        return describe_pointer(n.pointer) + " exists";
      return describe_pointer(n.pointer) + " " + std::string{to_string(n.op)} + " "
             + shown(n.value);
    case node::kind::all:
      return joined("all");
    case node::kind::any:
      return joined("any");
    case node::kind::negate:
      return "not(" + n.parts[0].describe() + ")";
  }
  return {};
}

int condition::depth() const noexcept {
  return node_->depth;
}

const std::string& condition::canonical_text() const noexcept {
  return node_->canonical;
}

} // namespace endure::gateway
