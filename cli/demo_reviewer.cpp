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

namespace {

/// One line from the terminal without surrounding blanks (a trailing '\r'
/// included); nullopt at the end of input.
std::optional<std::string> read_answer(const char* prompt) {
  std::printf("  %s > ", prompt);
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line))
    return std::nullopt;
  auto first = line.find_first_not_of(" \t\r");
  auto last = line.find_last_not_of(" \t\r");
  return first == std::string::npos ? std::string{} : line.substr(first, last - first + 1);
}

} // namespace

std::optional<control_request> demo_reviewer::asked(const gateway::human_request& r) {
  std::printf("\n%s request %s (run %s) waits for you:\n  %s\n", stamp_().c_str(),
              r.id.c_str(), r.run_id.c_str(), why_text(r).c_str());
  if (r.kind == gateway::request_kind::question) {
    auto choices = choices_of(r);
    for (std::size_t i = 0; i < choices.size(); ++i)
      std::printf("  %zu) %s\n", i + 1, clipped(choices[i].dump(), 200).c_str());
    for (;;) {
      auto line = read_answer(choices.empty() ? "your answer" : "a choice's number, or your answer");
      if (!line)
        return std::nullopt;
      if (line->empty())
        continue;
      json text = *line;
      if (line->size() <= 2 && std::all_of(line->begin(), line->end(), ::isdigit)) {
        auto n = std::stoul(*line);
        if (n >= 1 && n <= choices.size())
          text = choices[n - 1];
      }
      return decision(r, "respond", "you", {{"text", text}});
    }
  }
  if (r.arguments.is_object())
    for (auto& [name, value] : r.arguments.items())
      std::printf("  %s: %s\n", name.c_str(),
                  clipped(value.is_string() ? value.get<std::string>() : value.dump(), 160).c_str());
  std::printf("  you decide as %s, an editor the policy names\n", content_agent::default_editor);
  for (;;) {
    auto line = read_answer("[a]pprove (or Enter), [e]dit the title, [r]eject");
    if (!line)
      return std::nullopt;
    if (line->empty() || *line == "a" || *line == "approve")
      return decision(r, "approve", content_agent::default_editor, json::object());
    if ((*line == "e" || *line == "edit") && r.arguments.is_object()) {
      auto title = read_answer("new title");
      if (!title)
        return std::nullopt;
      auto args = r.arguments;
      args["title"] = *title;
      return decision(r, "edit", content_agent::default_editor, {{"arguments", args}});
    }
    if (*line == "r" || *line == "reject") {
      auto reason = read_answer("reason (the agent is told)");
      if (!reason)
        return std::nullopt;
      return decision(r, "reject", content_agent::default_editor, {{"reason", *reason}});
    }
    std::printf("  (type a, e or r)\n");  // anything else decides nothing
  }
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
  // Three refused answers from the terminal: the script decides instead,
  // rather than leaving the run waiting on a request nobody will answer.
  if (interactive_ && refusals_[r.id] < 3) {
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
  // otherwise try forever; the run then waits, and the summary shows it
  // pending).
  bool give_up = worth_another_try(reply) && ++refusals_[r.id] >= 6;
  if (!worth_another_try(reply) || give_up)
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
  if (give_up)
    std::printf("%s the reviewer gives up on request %s; the run waits for it: decide it with "
                "`endure --data %s approve|reject|answer %s --as WHO`\n",
                stamp_().c_str(), r.id.c_str(), env_.globals.data_dir.c_str(), r.id.c_str());
  std::fflush(stdout);
}

} // namespace endure::cli
