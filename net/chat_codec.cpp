// Chat-completions wire format (encode/decode both ways) and the confidence
// rewrite. Tolerant where servers differ: content as string, null or parts;
// tool-call arguments as string (OpenAI) or object (Ollama); usage optional;
// null for an optional field. Strict everywhere else: every field of an
// answer is type-checked before use and a mismatch is a fatal failure
// naming the field (detail/json_answer.hpp); nothing here throws past a
// decode function.
#include "endure/net/openai_codec.hpp"

#include "endure/net/detail/json_answer.hpp"
#include "endure/net/http_failure.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace endure::net {

namespace {

using json = nlohmann::json;

constexpr const char* confidence_description =
  "How likely the answer is correct, from 0 (a guess) to 1 (certain).";

std::optional<chat_role> role_from(std::string_view s) {
  for (auto r : {chat_role::system, chat_role::user, chat_role::assistant, chat_role::tool})
    if (to_string(r) == s)
      return r;
  if (s == "developer")
    return chat_role::system;
  return std::nullopt;
}

json confidence_property() {
  return {{"type", "number"}, {"minimum", 0}, {"maximum", 1},
          {"description", confidence_description}};
}

/// The response_format object to send, with confidence added when asked.
result<json> response_format_json(const chat_request& req) {
  json schema;
  std::string name = "answer_with_confidence";
  bool strict = true;
  if (req.response_format) {
    schema = json::parse(req.response_format->schema_json, nullptr, false);
    if (schema.is_discarded() || !schema.is_object())
      return make_failure(failure_class::fatal,
                          "response_format.schema_json is not a JSON object: " +
                            quote_body(req.response_format->schema_json, 80));
    name = req.response_format->name;
    strict = req.response_format->strict;
    if (req.request_confidence) {
      if (schema.value("type", "") != "object")
        return make_failure(failure_class::fatal,
                            "request_confidence needs an object schema (\"type\": \"object\") "
                            "in response_format to add a confidence field to");
      schema["properties"]["confidence"] = confidence_property();
      auto& required = schema["required"];
      if (!required.is_array())
        required = json::array();
      if (std::find(required.begin(), required.end(), "confidence") == required.end())
        required.push_back("confidence");
    }
  } else {
    schema = {{"type", "object"},
              {"properties", {{"answer", {{"type", "string"}}}, {"confidence", confidence_property()}}},
              {"required", {"answer", "confidence"}},
              {"additionalProperties", false}};
  }
  return json{{"type", "json_schema"},
              {"json_schema", {{"name", name}, {"schema", schema}, {"strict", strict}}}};
}

json message_json(const chat_message& m) {
  json j{{"role", to_string(m.role)}};
  j["content"] = m.content.empty() && !m.tool_calls.empty() ? json(nullptr) : json(m.content);
  if (!m.tool_calls.empty()) {
    j["tool_calls"] = json::array();
    for (const auto& c : m.tool_calls)
      j["tool_calls"].push_back({{"id", c.id}, {"type", "function"},
                                 {"function", {{"name", c.name}, {"arguments", c.arguments_json}}}});
  }
  if (m.role == chat_role::tool)
    j["tool_call_id"] = m.tool_call_id;
  return j;
}

std::string text_of(const json& content) {
  if (content.is_string())
    return content.get<std::string>();
  std::string out;
  if (content.is_array()) // [{"type":"text","text":"..."}]
    for (const auto& part : content)
      if (part.is_object() && part.value("type", "") == "text")
        out += part.value("text", "");
  return out;
}

std::vector<tool_call> tool_calls_of(const json& message) {
  std::vector<tool_call> calls;
  auto it = message.find("tool_calls");
  if (it == message.end() || !it->is_array())
    return calls;
  for (const auto& c : *it) {
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object())
      continue;
    const auto& f = c["function"];
    tool_call call{c.value("id", ""), f.value("name", ""), "{}"};
    if (f.contains("arguments"))
      call.arguments_json = f["arguments"].is_string() ? f["arguments"].get<std::string>()
                                                       : f["arguments"].dump();
    calls.push_back(std::move(call));
  }
  return calls;
}

/// Local models sometimes fence JSON in ```json ... ``` when not constrained.
std::string_view strip_fence(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || s.substr(first, 3) != "```")
    return s;
  auto open_end = s.find('\n', first);
  auto close = s.rfind("```");
  if (open_end == std::string_view::npos || close <= open_end)
    return s;
  return s.substr(open_end + 1, close - open_end - 1);
}

/// Pulls confidence out of structured content `j` and unwraps a bare answer.
void take_confidence(chat_response& out, const chat_request& req, const json& j) {
  if (!req.request_confidence || !j.is_object())
    return;
  if (j.contains("confidence") && j["confidence"].is_number()) {
    double c = j["confidence"].get<double>();
    if (c >= 0.0 && c <= 1.0)
      out.confidence = c;
  }
  if (!req.response_format && j.contains("answer"))
    out.content = j["answer"].is_string() ? j["answer"].get<std::string>() : j["answer"].dump();
}

/// Parses structured content, pulls out confidence, unwraps a bare answer.
std::optional<endure::failure> apply_structure(chat_response& out, const chat_request& req,
                                               std::string_view what) {
  auto j = json::parse(strip_fence(out.content), nullptr, false);
  if (j.is_discarded())
    return make_failure(failure_class::fatal,
                        std::string(what) + ": the model's structured answer is not JSON: " +
                          quote_body(out.content) + "; check that the server supports "
                          "response_format json_schema");
  take_confidence(out, req, j);
  return std::nullopt;
}

/// A turn that calls tools is not the structured answer: its content, if
/// any, is the model's note. When it is {"answer": note, "confidence": x}
/// (as the sim writes it) the confidence is read as for an answer; free
/// text, as real models write beside tool calls, stays as it is.
void apply_tool_turn_structure(chat_response& out, const chat_request& req) {
  if (out.content.empty())
    return;
  auto j = json::parse(strip_fence(out.content), nullptr, false);
  if (!j.is_discarded())
    take_confidence(out, req, j);
}

// -- reading an answer: every field type-checked (detail/json_answer.hpp) --------

/// message.content: a string, null, or OpenAI's array of parts (text kept).
std::string read_content(const json& message, std::string_view parent) {
  const json* content = detail::optional_field(message, "content");
  if (!content)
    return {};
  if (content->is_string())
    return content->get<std::string>();
  auto path = detail::path_of(parent, "content");
  if (!content->is_array())
    detail::violate(path, "a string, null or an array of content parts", *content);
  std::string out;
  for (std::size_t i = 0; i < content->size(); ++i) {
    auto part_path = detail::path_of(path, i);
    const auto& part = detail::as_object((*content)[i], part_path);
    if (detail::optional_string(part, "type", part_path) == "text")
      out += detail::optional_string(part, "text", part_path);
  }
  return out;
}

tool_call read_tool_call(const json& value, std::string_view path) {
  const auto& c = detail::as_object(value, path);
  auto function_path = detail::path_of(path, "function");
  const auto& f = detail::as_object(detail::required_field(c, "function", path), function_path);
  const auto& name = detail::required_field(f, "name", function_path);
  if (!name.is_string())
    detail::violate(detail::path_of(function_path, "name"), "a string", name);
  tool_call call{detail::optional_string(c, "id", path), name.get<std::string>(), "{}"};
  if (const json* args = detail::optional_field(f, "arguments")) {
    if (args->is_string()) // OpenAI: JSON text
      call.arguments_json = args->get<std::string>();
    else if (args->is_object()) // Ollama: the object itself
      call.arguments_json = args->dump();
    else
      detail::violate(detail::path_of(function_path, "arguments"), "a string or an object", *args);
  }
  return call;
}

std::vector<tool_call> read_tool_calls(const json& message, std::string_view parent) {
  std::vector<tool_call> calls;
  const json* list = detail::optional_field(message, "tool_calls");
  if (!list)
    return calls;
  auto path = detail::path_of(parent, "tool_calls");
  detail::as_array(*list, path);
  for (std::size_t i = 0; i < list->size(); ++i)
    calls.push_back(read_tool_call((*list)[i], detail::path_of(path, i)));
  return calls;
}

token_usage read_usage(const json& answer) {
  token_usage usage;
  const json* u = detail::optional_field(answer, "usage");
  if (!u)
    return usage;
  detail::as_object(*u, "usage");
  usage.prompt_tokens = detail::optional_count(*u, "prompt_tokens", "usage");
  usage.completion_tokens = detail::optional_count(*u, "completion_tokens", "usage");
  usage.total_tokens = detail::optional_count(*u, "total_tokens", "usage",
                                              usage.prompt_tokens + usage.completion_tokens);
  return usage;
}

/// The fields endure uses, from the first choice; throws schema_violation.
chat_response read_chat_response(const json& j) {
  const auto& choices = detail::as_array(detail::required_field(j, "choices", ""), "choices");
  if (choices.empty())
    throw detail::schema_violation("field 'choices' is an empty array, expected at least one choice");
  const auto& choice = detail::as_object(choices[0], "choices[0]");
  const auto& message =
    detail::as_object(detail::required_field(choice, "message", "choices[0]"), "choices[0].message");
  chat_response out;
  out.id = detail::optional_string(j, "id", "");
  out.model = detail::optional_string(j, "model", "");
  out.content = read_content(message, "choices[0].message");
  out.tool_calls = read_tool_calls(message, "choices[0].message");
  out.finish_reason = detail::optional_string(choice, "finish_reason", "choices[0]");
  out.usage = read_usage(j);
  return out;
}

endure::failure bad(std::string why) {
  return make_failure(failure_class::fatal, "invalid chat request: " + why, 400);
}

/// The tolerant server-side reading of a request (decode_chat_request
/// catches what its `value()` calls may throw).
result<chat_request> read_chat_request(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return bad("body is not a JSON object: " + quote_body(body, 80));
  if (!j.contains("messages") || !j["messages"].is_array())
    return bad("'messages' must be an array");
  chat_request req;
  req.model = j.value("model", "");
  for (const auto& m : j["messages"]) {
    auto role = m.is_object() ? role_from(m.value("role", "")) : std::nullopt;
    if (!role)
      return bad("a message has no valid 'role'");
    chat_message msg{*role, m.contains("content") ? text_of(m["content"]) : "", tool_calls_of(m),
                     m.value("tool_call_id", "")};
    req.messages.push_back(std::move(msg));
  }
  if (j.contains("tools") && j["tools"].is_array())
    for (const auto& t : j["tools"]) {
      if (!t.is_object() || !t.contains("function"))
        continue;
      const auto& f = t["function"];
      req.tools.push_back({f.value("name", ""), f.value("description", ""),
                           f.contains("parameters") ? f["parameters"].dump() : "{}"});
    }
  if (j.contains("tool_choice")) {
    const auto& c = j["tool_choice"];
    req.tool_choice = c.is_string() ? c.get<std::string>()
                                    : c.value(json::json_pointer("/function/name"), std::string{});
  }
  if (j.contains("response_format") && j["response_format"].is_object()) {
    const auto& rf = j["response_format"];
    json_schema_format format;
    format.schema_json = R"({"type":"object"})";
    if (rf.value("type", "") == "json_schema" && rf.contains("json_schema")) {
      const auto& js = rf["json_schema"];
      format.name = js.value("name", "answer");
      format.strict = js.value("strict", false);
      if (js.contains("schema"))
        format.schema_json = js["schema"].dump();
    }
    if (rf.value("type", "") != "text")
      req.response_format = std::move(format);
  }
  if (j.contains("temperature") && j["temperature"].is_number())
    req.temperature = j["temperature"].get<double>();
  if (j.contains("max_tokens") && j["max_tokens"].is_number_integer())
    req.max_tokens = j["max_tokens"].get<int>();
  if (j.contains("seed") && j["seed"].is_number_integer())
    req.seed = j["seed"].get<std::int64_t>();
  return req;
}

} // namespace

std::string_view to_string(chat_role r) noexcept {
  switch (r) {
    case chat_role::system: return "system";
    case chat_role::user: return "user";
    case chat_role::assistant: return "assistant";
    case chat_role::tool: return "tool";
  }
  return "user";
}

result<std::string> encode_chat_request(const chat_request& req, std::string_view model) {
  json j{{"model", req.model.empty() ? std::string(model) : req.model}, {"messages", json::array()}};
  for (const auto& m : req.messages)
    j["messages"].push_back(message_json(m));
  if (!req.tools.empty()) {
    j["tools"] = json::array();
    for (const auto& t : req.tools) {
      auto params = json::parse(t.parameters_schema_json, nullptr, false);
      if (params.is_discarded())
        return make_failure(failure_class::fatal, "tool '" + t.name +
                                                    "': parameters_schema_json is not JSON: " +
                                                    quote_body(t.parameters_schema_json, 80));
      j["tools"].push_back({{"type", "function"},
                            {"function", {{"name", t.name}, {"description", t.description},
                                          {"parameters", params}}}});
    }
  }
  if (req.tool_choice == "auto" || req.tool_choice == "none" || req.tool_choice == "required")
    j["tool_choice"] = req.tool_choice;
  else if (!req.tool_choice.empty())
    j["tool_choice"] = {{"type", "function"}, {"function", {{"name", req.tool_choice}}}};
  if (req.response_format || req.request_confidence) {
    auto format = response_format_json(req);
    if (!format)
      return std::move(format).error();
    j["response_format"] = std::move(*format);
  }
  if (req.temperature)
    j["temperature"] = *req.temperature;
  if (req.max_tokens)
    j["max_tokens"] = *req.max_tokens;
  if (req.seed)
    j["seed"] = *req.seed;
  return detail::dump_text(j);
}

result<chat_request> decode_chat_request(std::string_view body) {
  try {
    return read_chat_request(body);
  } catch (const json::exception& e) { // a field of an unexpected type
    return bad(std::string("a field has the wrong type: ") + e.what());
  }
}

std::string encode_chat_response(const chat_response& r) {
  chat_message m{chat_role::assistant, r.content, r.tool_calls, {}};
  json j{{"id", r.id},
         {"object", "chat.completion"},
         {"created", 0},
         {"model", r.model},
         {"choices", {{{"index", 0}, {"message", message_json(m)}, {"finish_reason", r.finish_reason}}}},
         {"usage", {{"prompt_tokens", r.usage.prompt_tokens},
                    {"completion_tokens", r.usage.completion_tokens},
                    {"total_tokens", r.usage.total_tokens}}}};
  return detail::dump_text(j);
}

result<chat_response> decode_chat_response(std::string_view body, std::string_view content_type,
                                           const chat_request& req, std::string_view what) {
  detail::answer_kind kind{what, "a chat completion"};
  try {
    auto j = detail::parse_answer(body, content_type, kind);
    if (!j)
      return std::move(j).error();
    auto out = read_chat_response(*j);
    if (!out.tool_calls.empty())
      apply_tool_turn_structure(out, req);
    else if (req.response_format || req.request_confidence)
      if (auto f = apply_structure(out, req, what))
        return std::move(*f);
    return out;
  } catch (const detail::schema_violation& v) {
    return detail::schema_failure(v, body, kind);
  } catch (const json::exception& e) { // a check the readers missed: still the answer's fault
    return detail::schema_failure(detail::schema_violation(e.what()), body, kind);
  }
}

std::string encode_error_body(std::string_view message, std::string_view type,
                              std::string_view code) {
  json e{{"message", message}, {"type", type}, {"param", nullptr}};
  e["code"] = code.empty() ? json(nullptr) : json(code);
  return detail::dump_text(json{{"error", e}});
}

} // namespace endure::net
