// The sim's tool-calling plan. From what the conversation says about its
// tools (sim_history.hpp) it asks a person first when it is unsure and
// ask_human is offered, calls the tools it has not called yet in plan
// order, retries once a call whose result said its arguments or its name
// were wrong, never calls a rejected tool again, and finally answers with
// what each tool gave. Every choice is a function of the request and the
// seed; arguments are drawn from an rng of their own, seeded by (seed,
// prompt, tool, how many calls of it came before), so they do not shift
// when an unrelated result changes; then fields of earlier results pass
// into properties of their name, and ask_human gets a readable question.
#include "endure/net/detail/sim_turn.hpp"

#include "endure/net/detail/json_answer.hpp"
#include "endure/net/detail/sim_data_flow.hpp"
#include "endure/net/detail/sim_directives.hpp"
#include "endure/net/detail/sim_history.hpp"
#include "endure/net/detail/sim_question.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

// -- the plan --------------------------------------------------------------------

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> offered_names(const chat_request& req) {
  std::vector<std::string> out;
  for (const auto& t : req.tools)
    if (!t.name.empty() && !contains(out, t.name))
      out.push_back(t.name);
  return out;
}

/// The built-in tool an agent asks a person with (endure::agent::ask_human_tool).
constexpr std::string_view ask_human = "ask_human";

bool scripts_ask_human(const sim_directives& d) { return d.call && contains(*d.call, ask_human); }

/// The tools to call, in order: `[sim: call ...]` (those offered), else all
/// offered but ask_human, which a sim that is sure of itself never calls.
std::vector<std::string> plan_of(const sim_directives& d, const std::vector<std::string>& offered) {
  if (!d.call) {
    std::vector<std::string> out;
    for (const auto& name : offered)
      if (name != ask_human)
        out.push_back(name);
    return out;
  }
  std::vector<std::string> out;
  for (const auto& name : *d.call)
    if (contains(offered, name) && !contains(out, name))
      out.push_back(name);
  return out;
}

/// Retries first (tools called once whose result asks for one), then the
/// plan's tools not called yet.
std::vector<std::string> due(const history& h, const std::vector<std::string>& plan,
                             const std::vector<std::string>& offered) {
  std::vector<std::string> out;
  for (const auto& t : h.tools)
    if (contains(offered, t.name) && t.calls.size() == 1 && t.calls.back().result == outcome::retry)
      out.push_back(t.name);
  for (const auto& name : plan)
    if (!h.find(name))
      out.push_back(name);
  return out;
}

/// A name like the first call's, but not offered: a model's slip.
std::string unknown_name(std::string name, const std::vector<std::string>& offered) {
  do
    name += "_v2";
  while (contains(offered, name));
  return name;
}

bool forces_a_tool(const std::string& choice, const std::vector<std::string>& offered) {
  return choice != "auto" && choice != "none" && choice != "required" && contains(offered, choice);
}

struct planned_call {
  std::string name;
  std::string schema_of; ///< whose schema the arguments follow
};

/// Whether the sim asks a person before anything else: ask_human is
/// offered and not scripted by `[sim: call ...]`, the conversation is
/// unsure (confidence below 0.5) and no call of it was made yet.
bool asks_first(const sim_directives& d, const std::vector<std::string>& offered, const history& h,
                double confidence) {
  return contains(offered, ask_human) && !scripts_ask_human(d) && confidence < 0.5
         && !h.find(ask_human);
}

std::vector<planned_call> calls_this_turn(const chat_request& req, const sim_directives& d,
                                          const history& h, std::size_t parallel,
                                          double confidence) {
  auto offered = offered_names(req);
  if (offered.empty() || req.tool_choice == "none")
    return {};
  if (forces_a_tool(req.tool_choice, offered))
    return {{req.tool_choice, req.tool_choice}};
  auto plan = plan_of(d, offered);
  std::vector<std::string> names;
  if (asks_first(d, offered, h, confidence) && !d.no_tools)
    names.emplace_back(ask_human);  // alone: the answer may change what comes next
  else if (!d.no_tools)
    names = due(h, plan, offered);
  if (names.empty() && req.tool_choice == "required")
    names.push_back(plan.empty() ? offered.front() : plan.front());
  std::vector<planned_call> out;
  if (d.unknown_tool && h.tools.empty() && !names.empty())
    out.push_back({unknown_name(names.front(), offered), names.front()});
  for (const auto& name : names)
    out.push_back({name, name});
  out.resize(std::min(out.size(), std::max<std::size_t>(parallel, 1)));
  return out;
}

// -- building the turn -----------------------------------------------------------

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// A call id no earlier call of the conversation used.
std::string fresh_id(sim_rng& rng, std::unordered_set<std::string>& used) {
  std::string id;
  for (int draw = 0; draw < 4; ++draw) {
    id = "call_" + hex(rng.next()).substr(0, 12);
    if (used.insert(id).second)
      return id;
  }
  id += "_" + std::to_string(used.size()); // four 48-bit collisions: not in this universe
  used.insert(id);
  return id;
}

/// The system and user text, directives left out: what the prompt says.
std::string prompt_text(const chat_request& req) {
  std::string out;
  for (const auto& m : req.messages)
    if (m.role == chat_role::system || m.role == chat_role::user)
      out += strip_sim_directives(m.content) + "\n";
  return out;
}

bool has_word(std::string_view text, std::string_view word) {
  std::string current;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (std::isalnum(c)) {
      current += static_cast<char>(std::tolower(c));
    } else {
      if (current == word)
        return true;
      current.clear();
    }
  }
  return false;
}

double confidence_of(const sim_directives& d, const std::string& prompt, std::uint64_t seed) {
  if (d.confidence)
    return *d.confidence;
  double u = sim_rng(sim_hash(prompt, seed ^ 0x636f6e666964656eULL)).unit();
  double c = has_word(prompt, "ambiguous") ? 0.15 + 0.30 * u : 0.55 + 0.43 * u;
  return std::round(c * 100.0) / 100.0;
}

const tool_definition* tool_named(const chat_request& req, std::string_view name) {
  for (const auto& t : req.tools)
    if (t.name == name)
      return &t;
  return nullptr;
}

/// A tool's parameters schema, with "type": "object" where it names no
/// type: arguments are an object on the wire whatever the schema allows.
std::string arguments_schema(const tool_definition* tool) {
  auto schema = tool ? json::parse(tool->parameters_schema_json, nullptr, false) : json::object();
  if (schema.is_discarded())
    schema = json::object();
  if (schema.is_object() && !schema.contains("type"))
    schema["type"] = "object";
  return dump_text(schema);
}

std::string listed(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return out;
}

std::string note_for(const std::vector<planned_call>& calls, const history& h,
                     const std::vector<std::string>& words) {
  std::vector<std::string> items;
  for (const auto& c : calls)
    items.push_back(h.calls_of(c.name) > 0 ? c.name + " again, with corrected arguments" : c.name);
  return "Next I call " + listed(items) + " to look into " +
         (words.empty() ? std::string("the request") : words.front()) + ".";
}

std::string describe(const tool_record& t) {
  const auto& last = t.calls.back();
  bool retried = t.calls.size() > 1 && t.calls[t.calls.size() - 2].result == outcome::retry;
  switch (last.result) {
    case outcome::ok: {
      auto words = sim_keywords(last.detail, 3);
      return t.name + " returned " + (words.empty() ? "nothing notable" : listed(words)) +
             (retried ? " on the second try, with corrected arguments" : "");
    }
    case outcome::rejected:
      return t.name + " was rejected" + (last.detail.empty() ? "" : " (" + last.detail + ")") +
             ", so I did not call it again and left that part undone";
    case outcome::retry:
    case outcome::failed:
      return t.name + " failed (" + last.detail + ")" + (retried ? " twice" : "") +
             ", so I went on without it";
    case outcome::pending:
      break;
  }
  return t.name + " gave no result";
}

std::string summary(const history& h, const std::vector<std::string>& words) {
  std::string out = "Here is what the tools gave: ";
  for (std::size_t i = 0; i < h.tools.size(); ++i)
    out += (i == 0 ? "" : "; ") + describe(h.tools[i]);
  return out + ". " +
         (words.empty() ? std::string("That is everything I could find.")
                        : "Taken together, that answers the question about " + words.front() + ".");
}

/// Whether `schema.properties[name]` is a plain `{"type": type}` slot the
/// sim may fill with its own value.
bool plain_slot(const json& schema, const char* name, const char* type) {
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object())
    return false;
  const auto& props = schema["properties"];
  if (!props.contains(name) || !props[name].is_object())
    return false;
  const auto& p = props[name];
  for (const char* constraint : {"enum", "const", "format", "pattern", "minLength", "maxLength"})
    if (p.contains(constraint))
      return false;
  return p.value("type", json()) == type;
}

/// Whether a number schema (the one request_confidence adds: 0 to 1)
/// admits `x`; a schema of another shape keeps its generated value.
bool accepts(const json& schema, double x) {
  if (!schema.is_object() || schema.value("type", json()) != "number")
    return false;
  auto within = [&](const char* key, bool below) {
    if (!schema.contains(key))
      return true;
    const auto& b = schema[key];
    return b.is_number() && (below ? x <= b.get<double>() : x >= b.get<double>());
  };
  return within("minimum", false) && within("maximum", true);
}

/// Valid arguments for `call`: ask_human's open question when its schema
/// takes one; else generated from the schema, with values of earlier
/// results passed along (sim_data_flow.hpp).
std::string arguments_for(const chat_request& req, const planned_call& call,
                          const std::string& schema, const history& h,
                          const std::vector<std::string>& words, sim_rng& args,
                          double confidence) {
  if (call.name == ask_human && call.schema_of == ask_human)
    if (auto question = sim_question(req, schema, confidence))
      return *question;
  return sim_pass_results(schema, sim_json(schema, words, args), h.results);
}

} // namespace

double sim_confidence(const chat_request& req, std::uint64_t seed) {
  return confidence_of(sim_directives_of(req), prompt_text(req), seed);
}

sim_turn sim_next_turn(const chat_request& req, const sim_options& o, sim_rng& rng) {
  auto d = sim_directives_of(req);
  auto prompt = prompt_text(req);
  auto h = read_history(req);
  auto words = sim_prompt_words(req, 8);
  sim_turn turn;
  turn.confidence = confidence_of(d, prompt, o.seed);
  auto planned = calls_this_turn(req, d, h, d.parallel.value_or(o.parallel_tool_calls),
                                 turn.confidence);
  if (planned.empty()) {
    turn.text = h.tools.empty() ? sim_text(req, rng) : summary(h, words);
    return turn;
  }
  for (const auto& p : planned) {
    std::size_t nth = h.calls_of(p.name);
    bool bad = nth == 0 && contains(d.bad_args, p.name);
    sim_rng args(sim_hash(prompt + '\x1f' + p.name + '\x1f' + std::to_string(nth), o.seed));
    std::string schema = arguments_schema(tool_named(req, p.schema_of));
    turn.calls.push_back({fresh_id(rng, h.ids), p.name,
                          bad ? sim_invalid_json(schema, words, args)
                              : arguments_for(req, p, schema, h, words, args, turn.confidence)});
  }
  turn.text = note_for(planned, h, words);
  return turn;
}

std::string sim_content_of(const chat_request& req, const sim_turn& turn, sim_rng& rng) {
  json schema = req.response_format ? json::parse(req.response_format->schema_json, nullptr, false)
                                    : json();
  // A client asks for a confidence by adding the property to the schema
  // (chat_request::request_confidence); the wire has no other sign of it.
  bool wants_confidence = schema.is_object() && schema.contains("properties") &&
                          schema["properties"].is_object() &&
                          schema["properties"].contains("confidence");
  if (!turn.calls.empty())
    return wants_confidence ? dump_text(json{{"answer", turn.text}, {"confidence", turn.confidence}})
                            : std::string();
  if (!req.response_format)
    return turn.text;
  auto value = json::parse(sim_json(req.response_format->schema_json, req, rng), nullptr, false);
  if (value.is_object()) {
    if (plain_slot(schema, "answer", "string"))
      value["answer"] = turn.text;
    if (wants_confidence && value.contains("confidence") && accepts(schema["properties"]["confidence"], turn.confidence))
      value["confidence"] = turn.confidence;
  }
  return dump_text(value);
}

} // namespace endure::net::detail
