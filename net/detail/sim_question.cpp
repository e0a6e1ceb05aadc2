// See sim_question.hpp. The question quotes the start of the user's
// message, one line, at most ~200 bytes, so it reads in a terminal and on
// the gateway's page; what the sim offers is checked against the offered
// schema (sim_fit.hpp) before it is used.
#include "endure/net/detail/sim_question.hpp"

#include "endure/net/detail/json_answer.hpp"
#include "endure/net/detail/sim_directives.hpp"
#include "endure/net/detail/sim_fit.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <vector>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

constexpr std::size_t quoted_words = 12;
constexpr std::size_t quoted_bytes = 200;

/// Whitespace-separated words of `text` (control characters count as
/// space, so the quote stays on one line).
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) {
      if (!word.empty())
        out.push_back(std::move(word));
      word.clear();
    } else {
      word += static_cast<char>(c);
    }
  }
  if (!word.empty())
    out.push_back(std::move(word));
  return out;
}

/// `text` cut to `max` bytes, not inside a UTF-8 sequence.
std::string cut(std::string text, std::size_t max) {
  if (text.size() <= max)
    return text;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
    --n;
  text.resize(n);
  return text;
}

/// The first `max` words of `text` on one line, single spaces between.
std::string one_line(std::string_view text, std::size_t max, bool& shortened) {
  auto words = words_of(text);
  shortened = words.size() > max;
  std::string out;
  for (std::size_t i = 0; i < words.size() && i < max; ++i)
    out += (i == 0 ? "" : " ") + words[i];
  return out;
}

/// The first words of the last user message, directives left out.
std::string quote_of(const chat_request& req) {
  std::string message;
  for (auto it = req.messages.rbegin(); it != req.messages.rend(); ++it)
    if (it->role == chat_role::user) {
      message = strip_sim_directives(it->content);
      break;
    }
  bool shortened = false;
  auto out = one_line(message, quoted_words, shortened);
  shortened = shortened || out.size() > quoted_bytes;
  out = cut(std::move(out), quoted_bytes);
  while (!out.empty() && std::string_view(".?!:;,").find(out.back()) != std::string_view::npos)
    out.pop_back();
  return shortened && !out.empty() ? out + "..." : out;
}

std::string question_for(const chat_request& req, double confidence) {
  char c[16];
  std::snprintf(c, sizeof c, "%.2f", confidence);
  std::string opening = confidence < 0.5 ? "Your request is not clear to me"
                                         : "I want to check with you before I go on";
  auto quote = quote_of(req);
  return opening + " (confidence " + c + "). What should I focus on" +
         (quote.empty() ? std::string("?") : ": " + quote + "?");
}

/// One line on what the answer steers: the other tools offered.
std::string context_for(const chat_request& req) {
  std::vector<std::string> names;
  for (const auto& t : req.tools)
    if (t.name != "ask_human" && !t.name.empty())
      names.push_back(t.name);
  if (names.empty())
    return "Your answer decides what I reply.";
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i)
    list += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  bool shortened = false;  // a name with a newline in it stays on the line
  return cut("Tools I can use next: " + one_line(list, quoted_bytes, shortened), quoted_bytes) +
         ". Your answer decides what they work on.";
}

} // namespace

std::optional<std::string> sim_question(const chat_request& req, std::string_view schema_json,
                                        double confidence) {
  auto schema = json::parse(schema_json, nullptr, false);
  if (schema.is_discarded())
    return std::nullopt;
  json open = {{"question", question_for(req, confidence)}, {"context", context_for(req)}};
  if (sim_fits(schema, open))
    return dump_text(open);
  open.erase("context");
  if (sim_fits(schema, open))
    return dump_text(open);
  return std::nullopt;
}

} // namespace endure::net::detail
