// The plain structs of an OpenAI-compatible chat completion: messages, tool
// definitions and calls, structured output, usage and cost. JSON-bearing
// fields (tool parameter schemas, tool call arguments, response schemas)
// are JSON text in std::string, so this header pulls in no JSON library.
// Value types; no threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace endure::net {

enum class chat_role : std::uint8_t { system, user, assistant, tool };

/// "system", "user", "assistant", "tool".
std::string_view to_string(chat_role r) noexcept;

/// A function call the model asked for.
struct tool_call {
  /// Id the tool's answer must quote in chat_message::tool_call_id.
  std::string id;
  /// Name of a tool_definition.
  std::string name;
  /// Arguments as JSON text, as the model wrote them (may be invalid JSON:
  /// validate before use).
  std::string arguments_json;
};

struct chat_message {
  chat_role role = chat_role::user;
  std::string content;
  /// Assistant messages: the calls it made. Default: none.
  std::vector<tool_call> tool_calls;
  /// Tool messages: the id of the call this answers. Default: empty.
  std::string tool_call_id;

  static chat_message system(std::string text) { return {chat_role::system, std::move(text), {}, {}}; }
  static chat_message user(std::string text) { return {chat_role::user, std::move(text), {}, {}}; }
  static chat_message assistant(std::string text) { return {chat_role::assistant, std::move(text), {}, {}}; }
  static chat_message tool_result(std::string call_id, std::string text) {
    return {chat_role::tool, std::move(text), {}, std::move(call_id)};
  }
};

/// A function the model may call.
struct tool_definition {
  std::string name;
  std::string description;
  /// JSON Schema of the arguments object, as JSON text.
  /// Default: "{\"type\":\"object\",\"properties\":{}}".
  std::string parameters_schema_json = R"({"type":"object","properties":{}})";
};

/// Structured output: response_format {type: json_schema}.
struct json_schema_format {
  /// Schema name, [a-zA-Z0-9_-]. Default: "answer".
  std::string name = "answer";
  /// JSON Schema of the answer, as JSON text; an object schema for
  /// confidence to be added to it.
  std::string schema_json;
  /// Ask the server to enforce the schema exactly. Default: true.
  bool strict = true;
};

struct chat_request {
  std::vector<chat_message> messages;
  /// Tools the model may call. Default: none.
  std::vector<tool_definition> tools;
  /// "", "auto", "none", "required", or a tool name to force. Default: "".
  std::string tool_choice;
  /// Structured output; content is then JSON text. Default: none.
  std::optional<json_schema_format> response_format;
  /// Ask for a confidence in [0,1]: with response_format, a required
  /// "confidence" number is added to the schema; without it, the answer is
  /// requested as {"answer": string, "confidence": number} and content is
  /// set to the answer. Either way chat_response::confidence holds it.
  /// Default: false.
  bool request_confidence = false;
  /// Overrides the configured model. Default: empty (use the config).
  std::string model;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::optional<std::int64_t> seed;
  /// Attempt number of this call (0 first), from the retry policy. Real
  /// endpoints ignore it; the sim model mixes it into its fault decisions so
  /// a retried call can succeed deterministically. Default: 0.
  std::uint32_t attempt = 0;
  /// Per-call deadline; zero means the configured one. Default: zero.
  std::chrono::milliseconds timeout{0};
};

struct token_usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t total_tokens = 0;
};

struct chat_response {
  std::string id;
  /// The model that answered ("sim" for the simulated model).
  std::string model;
  /// Text, or JSON text when a response_format was given (the answer
  /// alone when confidence was requested without a format).
  std::string content;
  std::vector<tool_call> tool_calls;
  /// "stop", "tool_calls", "length", ...
  std::string finish_reason;
  /// In [0,1], when requested and the model gave a valid one: in the
  /// structured answer, or, on a turn that calls tools, in content of the
  /// form {"answer": note, "confidence": x} (the sim gives one on every
  /// turn; real models mostly give none with tool calls).
  std::optional<double> confidence;
  token_usage usage;
  /// usage priced with the configured per-1k prices, in USD.
  double cost_usd = 0.0;
};

} // namespace endure::net
