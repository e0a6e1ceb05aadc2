// The built-in ask_human tool's definition: what the model reads about it.
#include "endure/actors/agent/ask_human_tool.hpp"

namespace endure::agent {

const tool& ask_human_definition() {
  static const tool definition = [] {
    tool t;
    t.name = std::string{ask_human_tool};
    t.description =
      "Ask a person a question and wait for the answer. Use it when you are unsure what the "
      "user wants or which option is right; do not guess. Give choices when the answer must be "
      "one of a few options (the answer is then exactly one of them), and context the person "
      "needs to answer.";
    // The limits keep a model that rambles (or loops) from filling a
    // person's inbox and the journal: what is too long goes back to it as
    // invalid_arguments, which it can shorten. Sizes in code points.
    t.parameters = nlohmann::json::parse(R"({
      "type": "object",
      "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 2000,
                     "description": "The question, as the person will read it."},
        "choices": {"type": "array", "maxItems": 20,
                    "items": {"type": "string", "maxLength": 200},
                    "description": "The answers the person may pick from; omit for a free answer."},
        "context": {"type": "string", "maxLength": 4000,
                    "description": "What the person needs to know to answer."}
      },
      "required": ["question"],
      "additionalProperties": false
    })");
    return t;
  }();
  return definition;
}

namespace {

/// arguments[key] if it is a string, else "" (never throws).
std::string text_at(const nlohmann::json& arguments, const char* key) {
  auto it = arguments.find(key);
  return it != arguments.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

} // namespace

human_question question_of(const nlohmann::json& arguments) {
  human_question q;
  if (!arguments.is_object())
    return q;
  q.question = text_at(arguments, "question");
  if (auto it = arguments.find("choices"); it != arguments.end() && it->is_array())
    for (const auto& c : *it)
      if (c.is_string())
        q.choices.push_back(c.get<std::string>());
  q.context = text_at(arguments, "context");
  return q;
}

nlohmann::json answer_result(const std::string& answer) { return {{"answer", answer}}; }

} // namespace endure::agent
