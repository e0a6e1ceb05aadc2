// validate: walks a value along its schema and collects every violation.
// It descends only where the schema does, and never deeper than
// max_schema_depth, so a hostile value costs time linear in its size and a
// bounded stack. Keywords are grouped by the type of value they constrain.
#include "endure/actors/agent/json_schema.hpp"

#include <nlohmann/json.hpp>

#include "endure/actors/agent/detail/schema_support.hpp"

namespace endure::agent {

namespace {

using nlohmann::json;

/// A value's text in a message, shortened so one huge string cannot flood
/// the model's context. nlohmann's dump recurses: a value too deep for it is
/// described, not dumped.
std::string shown(const json& v) {
  if (detail::deeper_than(v, max_schema_depth))
    return "a value nested deeper than " + std::to_string(max_schema_depth) + " levels";
  return detail::excerpt(v.dump(-1, ' ', false, json::error_handler_t::replace), 80);
}

const json* keyword(const json& schema, const char* name) {
  auto it = schema.find(name);
  return it == schema.end() ? nullptr : &*it;
}

class validator {
public:
  explicit validator(std::vector<schema_violation>& out) : out_(out) {}

  void run(const json& s, const json& v, const std::string& at, std::size_t depth) {
    if (depth > max_schema_depth)
      return fail(at, "nests deeper than " + std::to_string(max_schema_depth) +
                        " levels; flatten the value");
    if (s.is_boolean() && !s.get<bool>())
      return fail(at, "no value is allowed here");
    if (!s.is_object() || !type_matches(s, v, at))
      return;
    literals(s, v, at);
    if (v.is_number()) numeric(s, v, at);
    if (v.is_string()) string(s, v, at);
    if (v.is_array()) array(s, v, at, depth);
    if (v.is_object()) object(s, v, at, depth);
    combinators(s, v, at, depth);
  }

private:
  void fail(const std::string& at, std::string message) {
    out_.push_back({at, std::move(message)});
  }

  bool type_matches(const json& s, const json& v, const std::string& at) {
    const json* t = keyword(s, "type");
    if (!t)
      return true;
    std::string wanted;
    for (const json& name : t->is_array() ? *t : json::array({*t})) {
      if (!name.is_string())
        continue;
      if (detail::has_type(v, name.get_ref<const std::string&>()))
        return true;
      wanted += (wanted.empty() ? "" : " or ") + name.get<std::string>();
    }
    if (wanted.empty())
      return true;  // a malformed "type": nothing to enforce
    fail(at, "expected " + wanted + ", got " + std::string{detail::type_name(v)});
    return false;
  }

  void literals(const json& s, const json& v, const std::string& at) {
    // nlohmann's == compares numbers by value across int and float: 1 == 1.0.
    if (const json* e = keyword(s, "enum"); e && e->is_array()) {
      bool found = false;
      for (const json& option : *e)
        found = found || option == v;
      if (!found)
        fail(at, "must be one of " + shown(*e) + ", got " + shown(v));
    }
    if (const json* c = keyword(s, "const"); c && *c != v)
      fail(at, "must be " + shown(*c) + ", got " + shown(v));
  }

  void bound(const json& s, const json& v, const std::string& at, const char* name,
             bool (*ok)(int), const char* relation) {
    const json* b = keyword(s, name);
    if (b && b->is_number() && !ok(detail::compare_numbers(v, *b)))
      fail(at, std::string{"must be "} + relation + " " + b->dump() + ", got " + v.dump());
  }

  void numeric(const json& s, const json& v, const std::string& at) {
    bound(s, v, at, "minimum", [](int c) { return c >= 0; }, ">=");
    bound(s, v, at, "maximum", [](int c) { return c <= 0; }, "<=");
    bound(s, v, at, "exclusiveMinimum", [](int c) { return c > 0; }, ">");
    bound(s, v, at, "exclusiveMaximum", [](int c) { return c < 0; }, "<");
  }

  void count(const json& s, const std::string& at, const char* name, std::size_t n,
             bool at_least, const char* unit) {
    const json* b = keyword(s, name);
    if (!b || !detail::has_type(*b, "integer") || detail::compare_numbers(*b, json(0)) < 0)
      return;
    // 3 and 3.0 alike; a float beyond uint64 cannot be cast, and no count reaches it.
    auto limit = b->is_number_float() && b->get<double>() >= 1.8e19 ? UINT64_MAX
                                                                    : b->get<std::uint64_t>();
    if (at_least ? n < limit : n > limit)
      fail(at, std::string{"must have "} + (at_least ? "at least " : "at most ") +
                 std::to_string(limit) + " " + unit + ", has " + std::to_string(n));
  }

  void string(const json& s, const json& v, const std::string& at) {
    const auto& text = v.get_ref<const std::string&>();
    std::size_t n = detail::utf8_length(text);
    count(s, at, "minLength", n, true, "characters");
    count(s, at, "maxLength", n, false, "characters");
    const json* p = keyword(s, "pattern");
    if (!p || !p->is_string())
      return;
    try {
      if (!std::regex_search(text, detail::compile_pattern(p->get<std::string>())))
        fail(at, "must match the pattern " + shown(*p) + ", got " + shown(v));
    } catch (const std::regex_error& e) {
      fail(at, "the schema's pattern " + shown(*p) + " does not compile: " + e.what());
    }
  }

  void array(const json& s, const json& v, const std::string& at, std::size_t depth) {
    count(s, at, "minItems", v.size(), true, "items");
    count(s, at, "maxItems", v.size(), false, "items");
    const json* items = keyword(s, "items");
    if (!items || items->is_array())
      return;
    for (std::size_t i = 0; i < v.size(); ++i)
      run(*items, v[i], at + "/" + std::to_string(i), depth + 1);
  }

  void object(const json& s, const json& v, const std::string& at, std::size_t depth) {
    if (const json* req = keyword(s, "required"); req && req->is_array())
      for (const json& name : *req)
        if (name.is_string() && !v.contains(name.get_ref<const std::string&>()))
          fail(at, "missing required property '" + name.get<std::string>() + "'");
    const json* props = keyword(s, "properties");
    if (props && !props->is_object())
      props = nullptr;
    const json* extra = keyword(s, "additionalProperties");
    for (const auto& [key, item] : v.items()) {
      std::string item_at = at + "/" + detail::pointer_token(key);
      if (props && props->contains(key))
        run((*props)[key], item, item_at, depth + 1);
      else if (extra && extra->is_boolean() && !extra->get<bool>())
        fail(item_at, "property '" + key + "' is not allowed" + allowed(props));
      else if (extra)
        run(*extra, item, item_at, depth + 1);
    }
  }

  static std::string allowed(const json* props) {
    if (!props || props->empty())
      return "; the object takes no properties";
    std::string names;
    for (const auto& [name, _] : props->items())
      names += (names.empty() ? "" : ", ") + name;
    return "; allowed: " + names;
  }

  void combinators(const json& s, const json& v, const std::string& at, std::size_t depth) {
    if (const json* all = keyword(s, "allOf"); all && all->is_array())
      for (const json& sub : *all)
        run(sub, v, at, depth + 1);
    if (const json* any = keyword(s, "anyOf"); any && any->is_array())
      alternatives(*any, "anyOf", false, v, at, depth);
    if (const json* one = keyword(s, "oneOf"); one && one->is_array())
      alternatives(*one, "oneOf", true, v, at, depth);
  }

  /// anyOf (some branch matches) and oneOf (exactly one does). When none
  /// does, the message gives each branch's first violation: what the model
  /// needs to pick a branch and fix the value.
  void alternatives(const json& branches, const char* name, bool exactly_one, const json& v,
                    const std::string& at, std::size_t depth) {
    std::vector<std::size_t> matched;
    std::string why;
    for (std::size_t i = 0; i < branches.size(); ++i) {
      std::vector<schema_violation> found;
      validator{found}.run(branches[i], v, at, depth + 1);
      if (found.empty())
        matched.push_back(i);
      else
        why += "; #" + std::to_string(i) + (found[0].path.empty() ? "" : " at " + found[0].path) +
               ": " + found[0].message;
    }
    if (matched.empty())
      return fail(at, std::string{"must match "} + (exactly_one ? "exactly one" : "at least one") +
                        " schema in " + name + ", matches none" + why);
    if (exactly_one && matched.size() > 1)
      fail(at, "must match exactly one schema in oneOf, matches #" + std::to_string(matched[0]) +
                 " and #" + std::to_string(matched[1]));
  }

  std::vector<schema_violation>& out_;
};

} // namespace

std::vector<schema_violation> validate(const nlohmann::json& schema, const nlohmann::json& value) {
  std::vector<schema_violation> out;
  validator{out}.run(schema, value, "", 0);
  return out;
}

} // namespace endure::agent
