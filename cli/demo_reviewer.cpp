// The demo's reviewer (demo_reviewer.hpp).
#include "endure/cli/demo_reviewer.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "content_agent.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/request_rows.hpp"
#include "endure/cli/run_control.hpp"

namespace endure::cli {

namespace {

using json = nlohmann::json;

/// Who answers the agent's questions in the scripted demo.
constexpr const char* demo_writer = "ann";

std::string clipped(std::string text, std::size_t max = 70) {
  if (text.size() > max)
    text = text.substr(0, max - 3) + "...";
  return text;
}

/// "publish 'Some title'" or "the agent asks: ...".
std::string what_of(const gateway::human_request& r) {
  if (r.kind == gateway::request_kind::question)
    return "the agent asks: " + clipped(r.arguments.value("question", std::string{}));
  auto title = r.arguments.is_object() ? r.arguments.value("title", std::string{}) : "";
  return r.tool + (title.empty() ? "" : " '" + clipped(title, 50) + "'");
}

/// The question's choices: an array, empty when it offers none.
json choices_of(const gateway::human_request& r) {
  if (r.arguments.is_object() && r.arguments.contains("choices") &&
      r.arguments["choices"].is_array())
    return r.arguments["choices"];
  return json::array();
}

std::string first_choice(const gateway::human_request& r) {
  auto choices = choices_of(r);
  if (!choices.empty() && choices[0].is_string())
    return choices[0].get<std::string>();
  return "the programming model: actors that share nothing and talk by messages";
}

/// The keyword of a demo run id ("demo-llm-agents" -> "llm agents").
std::string keyword_of(const std::string& run_id) {
  auto k = run_id.rfind("demo-", 0) == 0 ? run_id.substr(5) : run_id;
  for (auto& c : k)
    c = c == '-' ? ' ' : c;
  return k;
}

control_request decision(const gateway::human_request& r, std::string what,
                         std::string principal, json payload) {
  control_request c;
  c.op = control_op::decide;
  c.run_id = r.id;
  c.name = std::move(what);
  c.principal = std::move(principal);
  c.payload = payload.dump(-1, ' ', false, json::error_handler_t::replace);
  return c;
}

bool allows(const gateway::human_request& r, const std::string& what) {
  if (r.kind == gateway::request_kind::question)
    return what == "respond";
  if (!r.rule.is_object() || !r.rule.contains("allowed_decisions"))
    return false;
  auto& list = r.rule["allowed_decisions"];
  return list.is_array() && std::find(list.begin(), list.end(), json(what)) != list.end();
}

} // namespace

demo_reviewer::demo_reviewer(command_env env, bool interactive,
                             std::function<std::string()> stamp)
  : env_(std::move(env)), interactive_(interactive), stamp_(std::move(stamp)) {}

std::size_t demo_reviewer::review(std::chrono::milliseconds think) {
  auto view = open_journal_view(env_.globals.data_dir);
  if (!view)
    return 0;  // not created yet
  auto listing = read_requests(**view);
  view->reset();  // never hold the journal open across a decision
  if (!listing)
    return 0;
  std::size_t pending = 0;
  auto now = clock::now();
  for (auto& r : listing->requests) {
    if (r.status != gateway::request_status::pending || done_.count(r.id))
      continue;
    auto seen = first_seen_.emplace(r.id, now).first->second;
    if (now - seen < think) {
      ++pending;
      continue;
    }
    decide(r);
  }
  return pending;
}

control_request demo_reviewer::scripted(const gateway::human_request& r) {
  if (r.kind == gateway::request_kind::question)
    return decision(r, "respond", demo_writer, {{"text", first_choice(r)}});
  if (!edited_one_ && allows(r, "edit") && r.arguments.is_object()) {
    edited_one_ = true;  // show an edit once: the editor improves the title
    auto args = r.arguments;
    args["title"] = "A practical guide to " + keyword_of(r.run_id);
    return decision(r, "edit", content_agent::default_editor, {{"arguments", args}});
  }
  return decision(r, "approve", content_agent::default_editor, json::object());
}

std::optional<control_request> demo_reviewer::asked(const gateway::human_request& r) {
  std::printf("\n%s request %s (run %s) waits for you:\n  %s\n", stamp_().c_str(), r.id.c_str(),
              r.run_id.c_str(), why_text(r).c_str());
  std::string line;
  if (r.kind == gateway::request_kind::question) {
    auto choices = choices_of(r);
    for (std::size_t i = 0; i < choices.size(); ++i)
        std::printf("  %zu) %s\n", i + 1, choices[i].dump().c_str());
    std::printf("  your answer (a choice's number, or text) > ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line))
      return std::nullopt;
    json text = line;
    if (!line.empty() && line.size() <= 2 &&
        std::all_of(line.begin(), line.end(), ::isdigit)) {
      auto n = std::stoul(line);
      if (n >= 1 && n <= choices.size())
        text = choices[n - 1];
    }
    return decision(r, "respond", "you", {{"text", text}});
  }
  std::printf("  arguments: %s\n  [a]pprove, [e]dit the title, [r]eject (Enter: approve) > ",
              clipped(r.arguments.dump(), 200).c_str());
  std::fflush(stdout);
  if (!std::getline(std::cin, line))
    return std::nullopt;
  if (!line.empty() && line[0] == 'r') {
    std::printf("  reason > ");
    std::fflush(stdout);
    std::string reason;
    std::getline(std::cin, reason);
    return decision(r, "reject", content_agent::default_editor, {{"reason", reason}});
  }
  if (!line.empty() && line[0] == 'e' && r.arguments.is_object()) {
    std::printf("  new title > ");
    std::fflush(stdout);
    std::string title;
    std::getline(std::cin, title);
    auto args = r.arguments;
    args["title"] = title;
    return decision(r, "edit", content_agent::default_editor, {{"arguments", args}});
  }
  return decision(r, "approve", content_agent::default_editor, json::object());
}

control_reply demo_reviewer::send(const control_request& r, bool& offline) {
  control_reply got;
  got.code = errc::io_error;
  got.message = "the decision was not delivered";
  serve_or_offline how;
  how.on_reply = [&](const channel_answer& a) -> std::optional<int> {
    got = a.reply;
    return 0;
  };
  how.offline = [&]() -> expected<int> {
    return try_with_journal(env_, [&](journal& store) {
      got = apply_offline(store, r, env_.tools.get());
      offline = true;
      return 0;
    });
  };
  through_serve_or(env_, r, how);
  return got;
}

/// A refusal that another attempt could turn into a decision (an answer
/// that is not one of the choices, a busy or unreachable worker), as
/// opposed to one that stays (decided already, no such request).
bool worth_another_try(const control_reply& reply) {
  return reply.code && *reply.code != errc::not_found && *reply.code != errc::invalid_state;
}

void demo_reviewer::decide(const gateway::human_request& r) {
  std::optional<control_request> c;
  if (interactive_) {
    c = asked(r);
    if (!c) {
      std::printf("\n(end of input: the scripted reviewer decides from here on)\n");
      interactive_ = false;
    }
  }
  if (!c)
    c = scripted(r);
  bool offline = false;
  auto reply = send(*c, offline);
  // Refused for a reason another answer may fix: ask again at the next
  // look, a few times at most (a script that keeps being refused would
  // otherwise ask forever).
  if (!worth_another_try(reply) || ++refusals_[r.id] >= 3)
    done_.insert(r.id);
  offline_ += offline && !reply.code ? 1 : 0;
  auto payload = json::parse(c->payload, nullptr, false);
  std::string detail;
  if (c->name == "respond")
    detail = " \"" + clipped(payload.value("text", std::string{}), 60) + "\"";
  else if (c->name == "edit")
    detail = " (title -> '" + clipped(payload["arguments"].value("title", std::string{}), 50) + "')";
  std::printf("%s %s: %s%s on %s (request %s) -> %s%s\n", stamp_().c_str(),
              c->principal.c_str(), c->name.c_str(), detail.c_str(), what_of(r).c_str(),
              r.id.c_str(), reply.code ? ("refused: " + reply.message).c_str()
                                       : reply.message.c_str(),
              offline ? " [into the journal: the worker is down]" : "");
  std::fflush(stdout);
}

} // namespace endure::cli
