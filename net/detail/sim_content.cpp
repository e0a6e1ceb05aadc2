// The sim model's words. The answers are meant to read plausibly in demos
// and logs, not to be right: they echo the prompt's content words in a few
// fixed sentence shapes chosen by the rng.
#include "endure/net/detail/sim_content.hpp"

#include "endure/net/detail/json_answer.hpp"
#include "endure/net/detail/sim_directives.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_set>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

const std::unordered_set<std::string> stop_words = {
  "about", "after", "again", "also", "because", "been", "before", "being", "between",
  "could", "does", "each", "from", "have", "here", "into", "just", "like", "make", "more",
  "most", "much", "only", "other", "over", "please", "should", "some", "such", "than", "that",
  "their", "them", "then", "there", "these", "they", "this", "those", "very", "want", "what",
  "when", "where", "which", "while", "will", "with", "would", "write", "your"};

std::string word_or(const std::vector<std::string>& words, std::size_t i, const char* fallback) {
  return i < words.size() ? words[i] : fallback;
}

const chat_message* last_of(const chat_request& req, chat_role role) {
  for (auto it = req.messages.rbegin(); it != req.messages.rend(); ++it)
    if (it->role == role)
      return &*it;
  return nullptr;
}

std::string tool_name_for(const chat_request& req, const std::string& call_id) {
  for (const auto& m : req.messages)
    for (const auto& c : m.tool_calls)
      if (c.id == call_id)
        return c.name;
  return "the tool";
}

json generate(const json& schema, const std::string& property, const std::vector<std::string>& words,
              sim_rng& rng, int depth);

json generate_object(const json& schema, const std::vector<std::string>& words, sim_rng& rng,
                     int depth) {
  json out = json::object();
  if (schema.contains("properties") && schema["properties"].is_object())
    for (const auto& [name, sub] : schema["properties"].items())
      out[name] = generate(sub, name, words, rng, depth + 1);
  // A required name the properties do not describe still has to be there.
  if (schema.contains("required") && schema["required"].is_array())
    for (const auto& name : schema["required"])
      if (name.is_string() && !out.contains(name.get<std::string>()))
        out[name.get<std::string>()] = word_or(words, 0, "sim");
  return out;
}

/// A bound of the schema, if it is a number.
std::optional<double> bound(const json& schema, const char* key) {
  if (schema.contains(key) && schema[key].is_number())
    return schema[key].get<double>();
  return std::nullopt;
}

json generate_number(const json& schema, const std::string& property, sim_rng& rng, bool integer) {
  if (property == "confidence")
    return std::round((0.55 + 0.43 * rng.unit()) * 100.0) / 100.0;
  auto min = bound(schema, "minimum"), max = bound(schema, "maximum");
  double lo = min ? *min : (max ? *max - 100.0 : 0.0);
  double hi = max ? *max : lo + 100.0;
  double v = lo + (hi - lo) * rng.unit();
  if (integer) {
    double first = std::ceil(lo), last = std::floor(hi);
    if (last < first) // no integer in range: the nearest to it
      return static_cast<std::int64_t>(first);
    return static_cast<std::int64_t>(first + std::floor((last - first + 1) * rng.unit()));
  }
  return std::clamp(std::round(v * 100.0) / 100.0, lo, std::max(lo, hi));
}

/// A string of a well-known "format", else nullopt.
std::optional<std::string> formatted(const json& schema, const std::string& word) {
  std::string format = schema.contains("format") && schema["format"].is_string()
                         ? schema["format"].get<std::string>() : "";
  if (format == "email")
    return word + "@example.com";
  if (format == "uri" || format == "url" || format == "iri")
    return "https://example.com/" + word;
  if (format == "date")
    return std::string("2024-05-17");
  if (format == "date-time")
    return std::string("2024-05-17T09:30:00Z");
  if (format == "uuid")
    return std::string("00000000-0000-4000-8000-000000000000");
  return std::nullopt;
}

/// `text` stretched or cut to minLength / maxLength.
std::string fit_length(const json& schema, std::string text) {
  std::size_t min = schema.value("minLength", std::size_t{0});
  std::size_t max = schema.value("maxLength", std::numeric_limits<std::size_t>::max());
  if (text.empty() && min > 0)
    text = "sim";
  for (std::string unit = " " + text; text.size() < min && text.size() < 4096;)
    text += unit;
  if (text.size() > max)
    text.resize(max);
  return text;
}

json generate(const json& schema, const std::string& property, const std::vector<std::string>& words,
              sim_rng& rng, int depth) {
  if (!schema.is_object() || depth > 8)
    return "sim";
  if (schema.contains("const"))
    return schema["const"];
  if (schema.contains("enum") && schema["enum"].is_array() && !schema["enum"].empty())
    return schema["enum"][rng.below(schema["enum"].size())];
  for (const char* any : {"anyOf", "oneOf", "allOf"})
    if (schema.contains(any) && schema[any].is_array() && !schema[any].empty())
      return generate(schema[any][0], property, words, rng, depth + 1);
  std::string type = "string";
  if (schema.contains("type")) {
    const auto& t = schema["type"];
    if (t.is_string())
      type = t.get<std::string>();
    else if (t.is_array()) // e.g. ["string", "null"]: the first non-null
      for (const auto& option : t)
        if (option.is_string() && option != "null") {
          type = option.get<std::string>();
          break;
        }
  } else if (schema.contains("properties")) {
    type = "object";
  }
  if (type == "object")
    return generate_object(schema, words, rng, depth);
  if (type == "array") {
    json out = json::array();
    std::size_t n = std::min(std::max<std::size_t>(1, schema.value("minItems", std::size_t{1})),
                             schema.value("maxItems", std::size_t{16}));
    for (std::size_t i = 0; i < n && i < 16; ++i)
      out.push_back(generate(schema.value("items", json::object()), property, words, rng, depth + 1));
    return out;
  }
  if (type == "number" || type == "integer")
    return generate_number(schema, property, rng, type == "integer");
  if (type == "boolean")
    return rng.below(2) == 1;
  if (type == "null")
    return nullptr;
  std::string text = word_or(words, rng.below(std::max<std::size_t>(words.size(), 1)), "result");
  if (auto f = formatted(schema, text))
    return *f;
  if (property == "answer" || property == "summary" || property == "reason" || property == "text")
    text = "The key point is " + text + ", considered together with " +
           word_or(words, rng.below(std::max<std::size_t>(words.size(), 1)), "the context") + ".";
  return fit_length(schema, std::move(text));
}

std::string type_of(const json& schema) {
  if (!schema.contains("type"))
    return "";
  const auto& t = schema["type"];
  return t.is_string() ? t.get<std::string>() : "";
}

/// A value `schema` refuses, if its type or enum says what it accepts.
std::optional<json> wrong_value(const json& schema) {
  if (!schema.is_object())
    return std::nullopt;
  if (schema.contains("enum") && schema["enum"].is_array())
    return json::array({"not one of the allowed values"});
  std::string type = type_of(schema);
  if (type == "string")
    return 42;
  if (type == "number" || type == "integer" || type == "boolean" || type == "object" ||
      type == "null")
    return json::array({"not a " + type});
  if (type == "array")
    return "not an array";
  return std::nullopt;
}

/// `valid` (an instance of `schema`) changed so `schema` refuses it.
json broken(const json& schema, json valid) {
  if (schema.is_object() && valid.is_object()) {
    if (schema.contains("required") && schema["required"].is_array())
      for (const auto& name : schema["required"])
        if (name.is_string() && valid.contains(name.get<std::string>())) {
          valid.erase(name.get<std::string>());
          return valid;
        }
    if (schema.contains("properties") && schema["properties"].is_object())
      for (const auto& [name, sub] : schema["properties"].items())
        if (auto wrong = wrong_value(sub)) {
          valid[name] = std::move(*wrong);
          return valid;
        }
  }
  if (type_of(schema) == "object" || (schema.is_object() && schema.contains("properties")))
    return json::array({valid}); // an array where an object belongs
  if (auto wrong = wrong_value(schema))
    return *wrong;
  return json::array({valid});
}

} // namespace

std::uint64_t sim_rng::next() noexcept {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double sim_rng::unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::size_t sim_rng::below(std::size_t n) noexcept {
  return n == 0 ? 0 : static_cast<std::size_t>(next() % n);
}

std::uint64_t sim_hash(std::string_view text, std::uint64_t seed) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return sim_rng(h).next();
}

std::vector<std::string> sim_keywords(std::string_view text, std::size_t max) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (word.size() >= 4 && !stop_words.count(word) &&
        std::find(out.begin(), out.end(), word) == out.end() && out.size() < max)
      out.push_back(word);
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c))
      word += static_cast<char>(std::tolower(c));
    else
      flush();
  }
  flush();
  return out;
}

std::string sim_text(const chat_request& req, sim_rng& rng) {
  if (!req.messages.empty() && req.messages.back().role == chat_role::tool) {
    const auto& result = req.messages.back();
    auto words = sim_keywords(result.content, 4);
    return "According to " + tool_name_for(req, result.tool_call_id) + ", the result covers " +
           word_or(words, 0, "the request") + " and " + word_or(words, 1, "its details") +
           ". That answers the question; the next step is to check " +
           word_or(words, 2, "the outcome") + ".";
  }
  auto words = sim_prompt_words(req, 5);
  if (words.empty())
    return "Understood. There is not much to go on yet: could you say more about what you need?";
  const std::string a = words[0], b = word_or(words, 1, "the context"),
                    c = word_or(words, 2, "the constraints"), d = word_or(words, 3, "the goal");
  switch (rng.below(3)) {
    case 0:
      return "Here is a short answer about " + a + ". It depends mostly on " + b + " and " + c +
             ". A practical next step is to review " + b + " first, then check the result against " +
             d + ".";
    case 1:
      return "In short: " + a + " works best when " + b + " is settled early. Watch " + c +
             ", since it is where most problems appear, and keep " + d + " in view.";
    default:
      return "Three points on " + a + ": first, clarify " + b + "; second, weigh " + c +
             " against the cost; third, write down how " + d + " will be verified.";
  }
}

std::vector<std::string> sim_prompt_words(const chat_request& req, std::size_t max) {
  const chat_message* user = last_of(req, chat_role::user);
  return sim_keywords(user ? strip_sim_directives(user->content) : "", max);
}

std::string sim_json(std::string_view schema_json, const std::vector<std::string>& words,
                     sim_rng& rng) {
  auto schema = json::parse(schema_json, nullptr, false);
  return dump_text(generate(schema.is_discarded() ? json::object() : schema, "", words, rng, 0));
}

std::string sim_json(std::string_view schema_json, const chat_request& req, sim_rng& rng) {
  return sim_json(schema_json, sim_prompt_words(req, 8), rng);
}

std::string sim_invalid_json(std::string_view schema_json, const std::vector<std::string>& words,
                             sim_rng& rng) {
  auto schema = json::parse(schema_json, nullptr, false);
  if (schema.is_discarded())
    schema = json::object();
  return dump_text(broken(schema, generate(schema, "", words, rng, 0)));
}

std::vector<float> sim_embedding(std::string_view text, std::size_t dims) {
  // Every word of 3+ letters counts (short nouns like "cat" matter for
  // similarity), a few function words excepted.
  static const std::unordered_set<std::string> glue = {"the", "and", "for", "are", "was", "but", "not", "you"};
  std::vector<float> v(std::max<std::size_t>(dims, 1), 0.0f);
  std::string word;
  auto add = [&] {
    if (word.size() >= 3 && !glue.count(word)) {
      auto h = sim_hash(word, 17);
      v[h % v.size()] += (h >> 63) ? 1.0f : -1.0f;
    }
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c))
      word += static_cast<char>(std::tolower(c));
    else
      add();
  }
  add();
  double norm = 0;
  for (float x : v)
    norm += static_cast<double>(x) * x;
  if (norm == 0) {
    v[0] = 1.0f;
    return v;
  }
  for (float& x : v)
    x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

} // namespace endure::net::detail
