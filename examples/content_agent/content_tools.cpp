// The content agent's tools (content_agent.hpp). Each is a plain function
// from JSON arguments to a JSON result; the schema is what the model sees
// and what endure checks every call against before the function runs.
#include <algorithm>
#include <fstream>
#include <system_error>
#include <vector>

#include "content_agent.hpp"
#include "endure/net/sha256.hpp"
#include "endure/persistence/failure.hpp"

namespace content_agent {

namespace {

using json = nlohmann::json;
using endure::agent::tool;

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Lower-case ASCII letters and digits joined by '-', at most 60
/// characters: a URL or file name. Anything else (punctuation, spaces,
/// non-ASCII bytes) separates words, whatever the locale.
std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (ascii_alnum(c))
      out += ascii_lower(c);
    else if (!out.empty() && out.back() != '-')
      out += '-';
    if (out.size() >= 60)
      break;
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "untitled" : out;
}

/// What a source url is about: its first path segment that is not a
/// number, read back from its slug ("https://docs.example/actor-model/1"
/// -> "actor model"); the host when the path has none.
std::string topic_of(const std::string& url) {
  auto scheme = url.find("://");
  auto rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  std::vector<std::string> segments;
  std::string current;
  for (char c : rest + "/") {
    if (c != '/' && c != '?' && c != '#') {
      current += c;
    } else if (!current.empty()) {
      segments.push_back(std::move(current));
      current.clear();
    }
  }
  std::string topic;
  for (std::size_t i = 1; i < segments.size() && topic.empty(); ++i)
    if (!std::all_of(segments[i].begin(), segments[i].end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
      topic = segments[i];
  if (topic.empty() && !segments.empty())
    topic = segments[0];
  topic = slug(topic);
  std::replace(topic.begin(), topic.end(), '-', ' ');
  return topic;
}

/// `text` with its first letter upper-case (ASCII).
std::string capitalized(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z')
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

std::size_t words_in(const std::string& text) {
  std::size_t n = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\n' || c == '\t';
    n += !space && !in_word;
    in_word = !space;
  }
  return n;
}

json string_property(const char* description, int max_length) {
  return {{"type", "string"}, {"description", description}, {"minLength", 1},
          {"maxLength", max_length}};
}

json object_schema(json properties, json required) {
  return {{"type", "object"}, {"properties", std::move(properties)},
          {"required", std::move(required)}, {"additionalProperties", false}};
}

// The results name their fields like the next tool's parameters (url,
// title, points, draft): a model, the sim included, passes them along.

tool search_tool() {
  tool t;
  t.name = "search";
  t.description = "Search the web; returns the best source's url and the three best sources "
                  "(title and url).";
  t.parameters = object_schema({{"query", string_property("what to search for", 200)}},
                               {"query"});
  t.function = [](const json& args) {
    auto query = args["query"].get<std::string>();
    json results = json::array();
    for (int i = 1; i <= 3; ++i)
      results.push_back({{"title", query + ", part " + std::to_string(i)},
                         {"url", "https://docs.example/" + slug(query) + "/" + std::to_string(i)}});
    return json{{"url", results[0]["url"]}, {"results", results}};
  };
  return t;
}

tool read_tool() {
  tool t;
  t.name = "read";
  t.description = "Read a source found by search; returns its text, a title for an article on "
                  "it and the source's key points.";
  t.parameters = object_schema({{"url", string_property("the source's url", 500)}}, {"url"});
  t.function = [](const json& args) {
    auto url = args["url"].get<std::string>();
    auto topic = topic_of(url);
    json points = {"What " + topic + " is and the problem it solves",
                   "Two worked examples of " + topic,
                   "The trade-offs practitioners report, and when " + topic + " is not the answer"};
    return json{{"url", url},
                {"title", capitalized(topic) + " in practice"},
                {"text", "The page at " + url + " explains " + topic + ", gives two examples "
                         "and lists the trade-offs practitioners report."},
                {"points", points}};
  };
  return t;
}

tool draft_tool() {
  tool t;
  t.name = "draft";
  t.description = "Write the article from a title and its key points; returns the title and "
                  "the draft (Markdown, without the title).";
  json points = {{"type", "array"}, {"items", string_property("one key point", 300)},
                 {"minItems", 1}, {"maxItems", 10}};
  t.parameters = object_schema({{"title", string_property("the article's title", 120)},
                                {"points", points}},
                               {"title", "points"});
  t.function = [](const json& args) {
    auto title = args["title"].get<std::string>();
    // The title is not repeated: publish puts it above the draft, and an
    // editor may still change it there.
    std::string draft = "What this article covers, in " + std::to_string(args["points"].size()) +
                        " point(s):\n\n";
    for (auto& p : args["points"])
      draft += "- " + p.get<std::string>() + "\n";
    return json{{"title", title}, {"draft", draft}, {"words", words_in(draft)}};
  };
  return t;
}

/// Writes the article where `site` keeps them. The file's name comes from
/// the title and the step's idempotency key (the first 12 hex digits of
/// its SHA-256, the same in every build), so a publish the runtime runs
/// again after a crash replaces its own file instead of adding a copy.
tool publish_tool(std::filesystem::path site) {
  tool t;
  t.name = "publish";
  t.description = "Publish the article on the public blog; returns its url. Cannot be undone.";
  t.parameters = object_schema({{"title", string_property("the article's title", 120)},
                                {"draft", string_property("the article in Markdown", 20000)}},
                               {"title", "draft"});
  t.irreversible = true;
  t.function = [site](const endure::step_info& info, const json& args) {
    auto title = args["title"].get<std::string>();
    auto name = slug(title) + "-" + endure::net::sha256_hex(info.idempotency_key).substr(0, 12);
    std::error_code ec;
    std::filesystem::create_directories(site, ec);
    std::ofstream out(site / (name + ".md"), std::ios::trunc);
    out << "<!-- " << info.idempotency_key << " -->\n# " << title << "\n\n"
        << args["draft"].get<std::string>() << "\n";
    out.flush();
    if (!out)  // retried per the step's policy; irreversible: one attempt, then the model is told
      throw endure::retryable_error("cannot write the article to " + site.string());
    return json{{"url", "https://blog.example/" + name}};
  };
  return t;
}

} // namespace

std::shared_ptr<endure::agent::tool_registry> make_tools(std::filesystem::path site_dir) {
  auto tools = std::make_shared<endure::agent::tool_registry>();
  for (auto* make : {&search_tool, &read_tool, &draft_tool}) {
    auto added = tools->add(make());
    if (!added)  // the schemas above are fixed: a refusal is a bug here
      throw std::logic_error(added.error().message);
  }
  if (auto added = tools->add(publish_tool(std::move(site_dir))); !added)
    throw std::logic_error(added.error().message);
  return tools;
}

} // namespace content_agent
