// JSON of the ledger and the progress log (ledger_json.hpp).
#include "endure/actors/state/ledger_json.hpp"

#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace endure::state {

namespace {

using json = nlohmann::json;

/// Thrown inside the parsers, turned into an error value at their edge.
struct bad_input {
  std::string message;
};

/// Reads the fields of one JSON object, naming each wrong one by its path
/// ("verification.timeout_ms") after `where` ("item 3 (\"doc-03\")").
class object_reader {
public:
  object_reader(const json& j, std::string where, std::string path = {})
    : j_(j), where_(std::move(where)), path_(std::move(path)) {
    if (!j_.is_object())
      fail(path_.empty() ? "" : path_, "must be a JSON object");
  }

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    std::string msg = where_;
    if (!field.empty())
      msg += (msg.empty() ? "" : ": ") + field;
    throw bad_input{msg + ": " + problem};
  }
  std::string name(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  const json& need(const char* key) const {
    if (auto* v = find(key))
      return *v;
    fail(name(key), "missing");
  }

  std::string text(const char* key, bool required, bool non_empty = false) const {
    auto* v = required ? &need(key) : find(key);
    if (!v)
      return {};
    if (!v->is_string())
      fail(name(key), "must be a string");
    if (non_empty && v->get_ref<const std::string&>().empty())
      fail(name(key), "must not be empty");
    return v->get<std::string>();
  }
  std::int64_t integer(const char* key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) const {
    auto* v = find(key);
    if (!v)
      return fallback;
    if (!v->is_number_integer() || v->get<std::int64_t>() < lo || v->get<std::int64_t>() > hi)
      fail(name(key), "must be a whole number from " + std::to_string(lo) + " to "
                        + std::to_string(hi));
    return v->get<std::int64_t>();
  }
  bool flag(const char* key) const {
    auto* v = find(key);
    if (!v)
      return false;
    if (!v->is_boolean())
      fail(name(key), "must be true or false");
    return v->get<bool>();
  }
  std::vector<std::string> texts(const char* key) const {
    std::vector<std::string> out;
    auto* v = find(key);
    if (!v)
      return out;
    if (!v->is_array())
      fail(name(key), "must be an array of strings");
    for (auto& e : *v) {
      if (!e.is_string())
        fail(name(key), "must be an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  /// A JSON object field, kept as its compact text.
  std::string object_text(const char* key) const {
    auto* v = find(key);
    if (!v)
      return "{}";
    if (!v->is_object())
      fail(name(key), "must be a JSON object");
    return v->dump();
  }
  /// Refuses keys outside `known` (a spec's typo must not drop a check).
  void only(std::initializer_list<const char*> known) const {
    for (auto& [k, _] : j_.items()) {
      bool ok = false;
      for (auto* n : known)
        ok = ok || k == n;
      if (!ok)
        fail(name(k.c_str()), "unknown field (a typo?)");
    }
  }
  const json& value() const { return j_; }

private:
  const json& j_;
  std::string where_;
  std::string path_;
};

template <class T, class F>
expected<T> parse_guarded(std::string_view text, const char* what, F body) {
  try {
    auto j = json::parse(text);
    return body(j);
  } catch (const bad_input& e) {
    return make_error(errc::invalid_argument, std::string{what} + ": " + e.message);
  } catch (const json::exception& e) {
    return make_error(errc::invalid_argument,
                      std::string{what} + ": not valid JSON (" + e.what() + ")");
  }
}

/// Rows and exports hold text from commands, tools and models: bytes that
/// are not UTF-8 become U+FFFD instead of failing the write (nlohmann's
/// strict dump throws, and the evidence or progress entry would be lost).
std::string dump_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

constexpr std::int64_t max_timeout_ms = 24LL * 3600 * 1000;

/// The item's "verification"; failures name the field from "verification."
/// on (read_spec_item puts the item in front).
verification read_verification(const json& j) {
  object_reader r{j, "", "verification"};
  r.only({"command", "expect_exit", "expect_output", "tool", "args", "expect", "timeout_ms"});
  verification v;
  v.command = r.text("command", false);
  v.tool = r.text("tool", false);
  v.expect_exit = static_cast<int>(r.integer("expect_exit", 0, 0, 255));
  v.expect_output = r.text("expect_output", false);
  v.tool_args = r.object_text("args");
  v.expect_result = r.object_text("expect");
  v.timeout = std::chrono::milliseconds{r.integer("timeout_ms", 30'000, 1, max_timeout_ms)};
  if (v.command.empty() == v.tool.empty())
    r.fail(r.name("command"), "exactly one of command and tool must be given");
  if (!v.command.empty() && (r.find("args") || r.find("expect")))
    r.fail(r.name("args"), "args and expect belong to a tool verification, not a command");
  if (!v.tool.empty() && (r.find("expect_exit") || r.find("expect_output")))
    r.fail(r.name("expect_exit"),
           "expect_exit and expect_output belong to a command verification, not a tool");
  return v;
}

/// An item's definition. A spec (`spec`) may hold nothing else; a stored
/// row holds the runtime's fields beside it (read by item_from_json).
ledger_item read_spec_item(const json& j, std::size_t index, bool spec = true) {
  std::string where = "item " + std::to_string(index + 1);
  if (j.is_object() && j.contains("id") && j["id"].is_string())
    where += " (\"" + j["id"].get<std::string>() + "\")";
  object_reader r{j, where};
  if (spec)
    r.only({"id", "description", "priority", "acceptance", "verification"});
  ledger_item it;
  it.id = r.text("id", true);
  if (!valid_id(it.id))
    r.fail("id", "must be 1 to 100 of the characters A-Z a-z 0-9 . _ -");
  it.description = r.text("description", true, true);
  it.priority = static_cast<std::int32_t>(r.integer("priority", 0, 0, 1'000'000));
  it.acceptance = r.texts("acceptance");
  auto& verify = r.need("verification");
  try {
    it.verify = read_verification(verify);
  } catch (const bad_input& e) {
    throw bad_input{where + ": " + e.message};
  }
  it.order = static_cast<std::uint32_t>(index);
  return it;
}

json verification_json(const verification& v) {
  json j;
  if (!v.command.empty()) {
    j["command"] = v.command;
    j["expect_exit"] = v.expect_exit;
    j["expect_output"] = v.expect_output;
  } else {
    j["tool"] = v.tool;
    j["args"] = json::parse(v.tool_args);
    j["expect"] = json::parse(v.expect_result);
  }
  j["timeout_ms"] = v.timeout.count();
  return j;
}

json evidence_json(const evidence& e) {
  json j{{"ran", e.ran},           {"passed", e.passed},
         {"timed_out", e.timed_out}, {"result_hash", e.result_hash},
         {"reason", e.reason},     {"output_tail", e.output_tail},
         {"at_ms", e.at_ms},       {"duration_ms", e.duration_ms},
         {"session", e.session},   {"run_id", e.run_id},
         {"step", e.step}};
  j["exit_status"] = e.exit_status ? json(*e.exit_status) : json(nullptr);
  return j;
}

evidence read_evidence(const object_reader& r) {
  evidence e;
  e.ran = r.text("ran", true);
  e.passed = r.flag("passed");
  if (auto* s = r.find("exit_status")) {
    if (!s->is_number_integer())
      r.fail("exit_status", "must be a whole number or null");
    e.exit_status = s->get<int>();
  }
  e.timed_out = r.flag("timed_out");
  e.result_hash = r.text("result_hash", false);
  e.reason = r.text("reason", false);
  e.output_tail = r.text("output_tail", false);
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  e.at_ms = r.integer("at_ms", 0, 0, big);
  e.duration_ms = r.integer("duration_ms", 0, 0, big);
  e.session = static_cast<std::uint32_t>(r.integer("session", 0, 0, UINT32_MAX));
  e.run_id = r.text("run_id", false);
  e.step = r.text("step", false);
  return e;
}

} // namespace

bool valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 100)
    return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

const char* to_string(item_status s) noexcept {
  return s == item_status::passing ? "passing" : "failing";
}

expected<std::vector<ledger_item>> ledger_spec_from_json(std::string_view text) {
  return parse_guarded<std::vector<ledger_item>>(text, "ledger spec", [](const json& j) {
    const json* items = &j;
    if (j.is_object()) {
      object_reader{j, ""}.only({"items"});
      if (!j.contains("items"))
        throw bad_input{"items: missing"};
      items = &j["items"];
    }
    if (!items->is_array())
      throw bad_input{"items: must be an array of items"};
    if (items->empty())
      throw bad_input{"items: a ledger needs at least one item"};
    std::vector<ledger_item> out;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items->size(); ++i) {
      out.push_back(read_spec_item((*items)[i], i));
      if (!seen.insert(out.back().id).second)
        throw bad_input{"item " + std::to_string(i + 1) + " (\"" + out.back().id
                        + "\"): id: used by an earlier item"};
    }
    return out;
  });
}

std::string to_json_text(const ledger_item& it) {
  json j{{"id", it.id},
         {"description", it.description},
         {"priority", it.priority},
         {"acceptance", it.acceptance},
         {"verification", verification_json(it.verify)},
         {"order", it.order},
         {"status", to_string(it.status)},
         {"verifications", it.verifications},
         {"revision", it.revision},
         {"overridden_by", it.overridden_by}};
  j["last"] = it.last ? evidence_json(*it.last) : json(nullptr);
  return dump_text(j);
}

expected<ledger_item> item_from_json(std::string_view text) {
  return parse_guarded<ledger_item>(text, "ledger item", [](const json& j) {
    object_reader r{j, ""};
    auto it = read_spec_item(j, 0, /*spec=*/false);
    it.order = static_cast<std::uint32_t>(r.integer("order", 0, 0, UINT32_MAX));
    auto status = r.text("status", true);
    if (status != "failing" && status != "passing")
      r.fail("status", "must be \"failing\" or \"passing\"");
    it.status = status == "passing" ? item_status::passing : item_status::failing;
    it.verifications = static_cast<std::uint32_t>(r.integer("verifications", 0, 0, UINT32_MAX));
    it.revision = static_cast<std::uint32_t>(r.integer("revision", 0, 0, UINT32_MAX));
    it.overridden_by = r.text("overridden_by", false);
    if (auto* last = r.find("last"))
      it.last = read_evidence(object_reader{*last, "", "last"});
    return it;
  });
}

std::string to_json_text(const evidence& e) { return dump_text(evidence_json(e)); }

expected<evidence> evidence_from_json(std::string_view text) {
  return parse_guarded<evidence>(text, "evidence", [](const json& j) {
    return read_evidence(object_reader{j, ""});
  });
}

std::string to_json_text(const progress_entry& p) {
  return dump_text(json{{"session", p.session}, {"at_ms", p.at_ms}, {"model", p.model},
              {"items", p.items},     {"tried", p.tried}, {"changed", p.changed},
              {"next", p.next},       {"ended", p.ended}});
}

expected<progress_entry> progress_from_json(std::string_view text) {
  return parse_guarded<progress_entry>(text, "progress entry", [](const json& j) {
    object_reader r{j, ""};
    progress_entry p;
    p.session = static_cast<std::uint32_t>(r.integer("session", 0, 0, UINT32_MAX));
    p.at_ms = r.integer("at_ms", 0, 0, std::numeric_limits<std::int64_t>::max());
    p.model = r.text("model", false);
    p.items = r.texts("items");
    p.tried = r.text("tried", false);
    p.changed = r.text("changed", false);
    p.next = r.text("next", false);
    p.ended = r.text("ended", false);
    return p;
  });
}

} // namespace endure::state
