// Reading the decision log: a line at a time, strictly, so a wrong field is
// reported where it is rather than counted as a zero.
#include "endure/actors/escalation/decision_log.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace endure::escalation {

namespace {

using json = nlohmann::json;

/// A value as it appeared, cut short: a message names it, never repeats a
/// megabyte of it.
std::string shown(const json& v) {
  auto text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() <= 60 ? text : text.substr(0, 57) + "...";
}

/// What is wrong with one line, empty when nothing is. Filled by the field
/// readers below, which return a default value when they fail.
struct line_reader {
  const json& root;
  std::string problem;

  const json* field(const json& obj, const char* key, const char* path) {
    if (!problem.empty())
      return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      problem = std::string{"missing field '"} + path + "'";
      return nullptr;
    }
    return &*it;
  }

  double number(const json& obj, const char* key, const char* path) {
    auto* v = field(obj, key, path);
    if (v == nullptr)
      return 0;
    if (!v->is_number() || !std::isfinite(v->get<double>())) {
      problem = std::string{"field '"} + path + "' must be a finite number, not " + shown(*v);
      return 0;
    }
    return v->get<double>();
  }

  const json* object(const json& obj, const char* key, const char* path) {
    auto* v = field(obj, key, path);
    if (v != nullptr && !v->is_object()) {
      problem = std::string{"field '"} + path + "' must be an object, not " + shown(*v);
      return nullptr;
    }
    return v;
  }

  std::string string(const json& obj, const char* key, const char* path) {
    auto* v = field(obj, key, path);
    if (v == nullptr)
      return {};
    if (!v->is_string()) {
      problem = std::string{"field '"} + path + "' must be a string, not " + shown(*v);
      return {};
    }
    return v->get<std::string>();
  }

  bool boolean(const json& obj, const char* key, const char* path) {
    auto* v = field(obj, key, path);
    if (v == nullptr)
      return false;
    if (!v->is_boolean()) {
      problem = std::string{"field '"} + path + "' must be true or false, not " + shown(*v);
      return false;
    }
    return v->get<bool>();
  }
};

void read_decision(line_reader& in, decision_record& rec) {
  auto text = in.string(in.root, "decision", "decision");
  if (!in.problem.empty())
    return;
  if (text == "proceed")
    rec.decision = decision::proceed;
  else if (text == "escalate")
    rec.decision = decision::escalate;
  else
    in.problem = "field 'decision' must be \"proceed\" or \"escalate\", not \"" + text + "\"";
}

/// Parses one line, refusing a key that appears twice in one object (the
/// JSON grammar allows it and the last would silently win).
expected<json> parse_strict(std::string_view line) {
  std::vector<std::vector<std::string>> keys;  // per open object
  std::string duplicate;
  json::parser_callback_t refuse_duplicates = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start)
      keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty())
      keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty()) {
      auto name = parsed.get<std::string>();
      auto& seen = keys.back();
      if (std::find(seen.begin(), seen.end(), name) != seen.end() && duplicate.empty())
        duplicate = name;
      seen.push_back(std::move(name));
    }
    return true;
  };
  try {
    auto root = json::parse(line, refuse_duplicates);
    if (!duplicate.empty())
      return make_error(errc::invalid_argument, "field '" + duplicate + "' appears twice");
    return root;
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    // e.what() says where and why ("number overflow parsing '1e999'").
    std::string why = e.what();
    if (why.size() > 200)
      why = why.substr(0, 197) + "...";
    return make_error(errc::invalid_argument, "not valid JSON: " + why);
  }
}

/// The record on one line, or what is wrong with it.
expected<decision_record> parse_line(std::string_view line) {
  auto parsed = parse_strict(line);
  if (!parsed)
    return std::move(parsed).error();
  auto& root = *parsed;
  if (!root.is_object())
    return make_error(errc::invalid_argument, "not a JSON object");
  line_reader in{root, {}};
  decision_record rec;
  rec.t = in.number(root, "t", "t");
  rec.task_type = in.string(root, "task_type", "task_type");
  if (auto* f = in.object(root, "features", "features")) {
    rec.features.uncertainty = in.number(*f, "uncertainty", "features.uncertainty");
    rec.features.novelty = in.number(*f, "novelty", "features.novelty");
    rec.features.benefit = in.number(*f, "benefit", "features.benefit");
  }
  rec.score = in.number(root, "score", "score");
  read_decision(in, rec);
  if (auto* o = in.object(root, "outcome", "outcome"))
    rec.error = in.boolean(*o, "error", "outcome.error");
  if (!in.problem.empty())
    return make_error(errc::invalid_argument, std::move(in.problem));
  return rec;
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

} // namespace

expected<std::vector<decision_record>> parse_decision_log(std::string_view text,
                                                          std::string_view source) {
  std::vector<decision_record> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    if (blank(line))
      continue;
    auto rec = parse_line(line);
    if (!rec)
      return make_error(errc::invalid_argument, std::string{source} + " line " +
                                                  std::to_string(line_no) + ": " +
                                                  rec.error().message);
    out.push_back(std::move(*rec));
  }
  if (out.empty())
    return make_error(errc::invalid_argument,
                      std::string{source} + ": no decision records (the log is empty)");
  return out;
}

expected<std::vector<decision_record>> read_decision_log(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    return make_error(errc::io_error, path.string() + ": not a file (give the decision log, "
                                                      "JSON lines)");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::io_error, path.string() + ": cannot open the decision log");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return make_error(errc::io_error, path.string() + ": reading the decision log failed");
  return parse_decision_log(text.str(), path.string());
}

} // namespace endure::escalation
