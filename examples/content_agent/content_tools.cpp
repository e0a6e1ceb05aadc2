// The content agent's tools (content_agent.hpp). Each is a plain function
// from JSON arguments to a JSON result; the schema is what the model sees
// and what endure checks every call against before the function runs.
#include <fstream>
#include <functional>
#include <system_error>

#include "content_agent.hpp"
#include "endure/persistence/failure.hpp"

namespace content_agent {

namespace {

using json = nlohmann::json;
using endure::agent::tool;

/// Lower-case words joined by '-', at most 60 characters: a URL or file name.
std::string slug(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c))
      out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '-')
      out += '-';
    if (out.size() >= 60)
      break;
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "untitled" : out;
}

json string_property(const char* description, int max_length) {
  return {{"type", "string"}, {"description", description}, {"minLength", 1},
          {"maxLength", max_length}};
}

json object_schema(json properties, json required) {
  return {{"type", "object"}, {"properties", std::move(properties)},
          {"required", std::move(required)}, {"additionalProperties", false}};
}

tool search_tool() {
  tool t;
  t.name = "search";
  t.description = "Search the web; returns the three best sources (title and url).";
  t.parameters = object_schema({{"query", string_property("what to search for", 200)}},
                               {"query"});
  t.function = [](const json& args) {
    auto query = args["query"].get<std::string>();
    json results = json::array();
    for (int i = 1; i <= 3; ++i)
      results.push_back({{"title", query + ", part " + std::to_string(i)},
                         {"url", "https://docs.example/" + slug(query) + "/" + std::to_string(i)}});
    return json{{"results", results}};
  };
  return t;
}

tool read_tool() {
  tool t;
  t.name = "read";
  t.description = "Read a source found by search; returns its text.";
  t.parameters = object_schema({{"url", string_property("the source's url", 500)}}, {"url"});
  t.function = [](const json& args) {
    auto url = args["url"].get<std::string>();
    return json{{"url", url},
                {"text", "The page at " + url + " explains the idea, gives two examples and "
                         "lists the trade-offs practitioners report."}};
  };
  return t;
}

tool draft_tool() {
  tool t;
  t.name = "draft";
  t.description = "Write the article from a title and its key points; returns the draft.";
  json points = {{"type", "array"}, {"items", string_property("one key point", 300)},
                 {"minItems", 1}, {"maxItems", 10}};
  t.parameters = object_schema({{"title", string_property("the article's title", 120)},
                                {"points", points}},
                               {"title", "points"});
  t.function = [](const json& args) {
    std::string body = "# " + args["title"].get<std::string>() + "\n";
    std::size_t words = 0;
    for (auto& p : args["points"]) {
      auto point = p.get<std::string>();
      body += "\n- " + point;
      words += 1 + std::count(point.begin(), point.end(), ' ');
    }
    return json{{"draft", body + "\n"}, {"words", words}};
  };
  return t;
}

/// Writes the article where `site` keeps them. The file's name comes from
/// the title and the step's idempotency key, so a publish the runtime runs
/// again after a crash replaces its own file instead of adding a copy.
tool publish_tool(std::filesystem::path site) {
  tool t;
  t.name = "publish";
  t.description = "Publish the article on the public blog; returns its url. Cannot be undone.";
  t.parameters = object_schema({{"title", string_property("the article's title", 120)},
                                {"body", string_property("the article in Markdown", 20000)}},
                               {"title", "body"});
  t.irreversible = true;
  t.function = [site](const endure::step_info& info, const json& args) {
    auto title = args["title"].get<std::string>();
    auto key = std::hash<std::string>{}(info.idempotency_key) % 0xffffffu;
    auto name = slug(title) + "-" + std::to_string(key);
    std::error_code ec;
    std::filesystem::create_directories(site, ec);
    std::ofstream out(site / (name + ".md"), std::ios::trunc);
    out << "<!-- " << info.idempotency_key << " -->\n# " << title << "\n\n"
        << args["body"].get<std::string>() << "\n";
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
