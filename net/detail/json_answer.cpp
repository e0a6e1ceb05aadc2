// See json_answer.hpp. The only place that decides how a 2xx body that is
// not the expected JSON is classified, for chat and embeddings alike.
#include "endure/net/detail/json_answer.hpp"

#include "endure/net/http_failure.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

std::string with_content_type(std::string_view content_type) {
  return content_type.empty() ? std::string("no Content-Type")
                              : "Content-Type '" + std::string(content_type) + "'";
}

/// The server's own error sent with a 2xx status: {"error": ...} and no data.
std::optional<endure::failure> embedded_error(const json& j, std::string_view body,
                                              const answer_kind& kind) {
  auto it = j.find("error");
  if (it == j.end() || it->is_null() || j.contains("choices") || j.contains("data"))
    return std::nullopt;
  http_response as_status{500, {}, std::string(body)};
  if (it->is_object())
    if (auto code = it->find("code"); code != it->end() && code->is_number_integer()) {
      auto status = code->get<std::int64_t>();
      if (status >= 400 && status <= 599)
        as_status.status = static_cast<int>(status);
    }
  auto f = failure_from_response(as_status, kind.what);
  f.http_status = 0; // the real status was 2xx
  auto said = std::string(kind.what) + ": HTTP " + std::to_string(as_status.status) + ": ";
  auto rest = f.message.rfind(said, 0) == 0 ? f.message.substr(said.size()) : f.message;
  f.message = std::string(kind.what) + ": the server answered with a success status but sent "
              "an error instead of " + std::string(kind.expected) + ", treated as HTTP " +
              std::to_string(as_status.status) + ": " + rest;
  return f;
}

} // namespace

result<json> parse_answer(std::string_view body, std::string_view content_type,
                          const answer_kind& kind) {
  std::string prefix = std::string(kind.what) + ": the answer is not " + std::string(kind.expected);
  if (blank(body))
    return make_failure(failure_class::retryable,
                        prefix + ": the body is empty (" + with_content_type(content_type) +
                          "); the server ended the answer early, retry");
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    // nlohmann reports the byte it stopped at: past the end means "cut off".
    if (e.byte > body.size())
      return make_failure(failure_class::retryable,
                          prefix + ": the JSON is cut off after " + std::to_string(body.size()) +
                            " bytes: " + quote_body(body) +
                            "; the transfer ended early, retry");
    return make_failure(failure_class::fatal,
                        prefix + ": the body is not JSON (" + with_content_type(content_type) +
                          ", syntax error at byte " + std::to_string(e.byte) + "): " +
                          quote_body(body) + "; check that base_url points at an "
                          "OpenAI-compatible API (usually ending in /v1)");
  }
  if (!j.is_object())
    return make_failure(failure_class::fatal,
                        prefix + ": it is " + describe(j) + ", expected a JSON object: " +
                          quote_body(body) + "; check that base_url points at an "
                          "OpenAI-compatible API (usually ending in /v1)");
  if (auto f = embedded_error(j, body, kind))
    return std::move(*f);
  return j;
}

endure::failure schema_failure(const schema_violation& v, std::string_view body,
                               const answer_kind& kind) {
  return make_failure(failure_class::fatal,
                      std::string(kind.what) + ": the answer breaks the schema of " +
                        std::string(kind.expected) + ": " + v.what() + "; body " +
                        quote_body(body) + "; the server is not OpenAI-compatible or has a "
                        "bug: check base_url, the model and the server's version");
}

std::string dump_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string describe(const json& value) {
  auto sample = [&](std::size_t max) {
    auto text = dump_text(value);
    return text.size() > max ? text.substr(0, max) + "..." : text;
  };
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean (" + sample(8) + ")";
    case json::value_t::string: return "a string (" + sample(40) + ")";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number (" + sample(24) + ")";
    case json::value_t::array: return "an array of " + std::to_string(value.size());
    case json::value_t::object: return "an object";
    default: return "a value of another type";
  }
}

void violate(std::string_view path, std::string_view expected, const json& got) {
  throw schema_violation("field '" + std::string(path) + "' is " + describe(got) +
                         ", expected " + std::string(expected));
}

std::string path_of(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

std::string path_of(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

const json* optional_field(const json& object, std::string_view key) {
  auto it = object.find(std::string(key));
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

const json& required_field(const json& object, std::string_view key, std::string_view parent) {
  auto it = object.find(std::string(key));
  if (it == object.end())
    throw schema_violation("field '" + path_of(parent, key) + "' is missing");
  return *it;
}

const json& as_object(const json& value, std::string_view path) {
  if (!value.is_object())
    violate(path, "an object", value);
  return value;
}

const json& as_array(const json& value, std::string_view path) {
  if (!value.is_array())
    violate(path, "an array", value);
  return value;
}

std::string optional_string(const json& object, std::string_view key, std::string_view parent,
                            std::string fallback) {
  const json* field = optional_field(object, key);
  if (!field)
    return fallback;
  if (!field->is_string())
    violate(path_of(parent, key), "a string", *field);
  return field->get<std::string>();
}

std::uint64_t optional_count(const json& object, std::string_view key, std::string_view parent,
                             std::uint64_t fallback) {
  const json* field = optional_field(object, key);
  if (!field)
    return fallback;
  if (field->is_number_unsigned())
    return field->get<std::uint64_t>();
  if (field->is_number_integer() && field->get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(field->get<std::int64_t>());
  violate(path_of(parent, key), "a non-negative integer", *field);
}

} // namespace endure::net::detail
