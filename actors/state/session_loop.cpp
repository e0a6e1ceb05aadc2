// The session loop (session_loop.hpp).
#include "endure/actors/state/session_loop.hpp"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/net/llm_backend.hpp"
#include "endure/actors/state/command_check.hpp"
#include "endure/actors/state/context_assembler.hpp"
#include "endure/actors/state/current_item.hpp"
#include "endure/actors/state/detail/ask_person.hpp"
#include "endure/actors/state/detail/step_failure.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_steps.hpp"
#include "endure/actors/state/memory_steps.hpp"
#include "endure/actors/state/tool_check.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/actors/state/workspace_steps.hpp"
#include "endure/actors/workflow_errors.hpp"
#include "endure/net/token_estimate.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

/// The workflow core's wall clock (journaled timestamps use the same).
constexpr auto wall_ms = ::endure::detail::now_ms;

std::string session_name(std::uint32_t n) { return "session " + std::to_string(n); }

[[noreturn]] void spec_error(const std::string& run, const std::string& field,
                             const std::string& problem) {
  throw fatal_error("run " + run + ", run_long_task: spec." + field + ": " + problem);
}

bool json_object(const std::string& text) {
  auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object();
}

/// init_tool / check_tool: one of command and tool, a tool the runtime
/// has, arguments and expectation that are JSON objects.
void check_environment_tool(const context& ctx, const std::string& which,
                            const std::string& command, const std::string& tool,
                            const std::string& args, const std::string& expect) {
  if (tool.empty())
    return;
  if (!command.empty())
    spec_error(ctx.run_id(), which + "_tool",
               "give " + which + "_command or " + which + "_tool, not both");
  if (!ctx.tools() || !ctx.tools()->find(tool))
    spec_error(ctx.run_id(), which + "_tool",
               "the runtime has no tool \"" + tool + "\" (register it in runtime_options::tools)");
  if (!json_object(args))
    spec_error(ctx.run_id(), which + "_tool_args", "must be a JSON object, as text: " + args);
  if (!json_object(expect))
    spec_error(ctx.run_id(), which + "_tool_expect", "must be a JSON object, as text: " + expect);
}

void check_spec(const context& ctx, const long_task_spec& spec) {
  if (!valid_id(spec.task))
    spec_error(ctx.run_id(), "task", "must be 1 to 100 of the characters A-Z a-z 0-9 . _ -");
  if (spec.goal.empty())
    spec_error(ctx.run_id(), "goal", "must say what the task is for");
  if (spec.items.empty())
    spec_error(ctx.run_id(), "items", "a ledger needs at least one item");
  if (spec.workspace.empty())
    spec_error(ctx.run_id(), "workspace", "must name the task's directory");
  if (spec.items_per_session == 0)
    spec_error(ctx.run_id(), "items_per_session", "must be at least 1");
  if (!(spec.state_share > 0.0 && spec.state_share <= 1.0))
    spec_error(ctx.run_id(), "state_share", "must be in (0, 1]");
  if (spec.max_sessions == 0)
    spec_error(ctx.run_id(), "max_sessions", "must be at least 1");
  check_environment_tool(ctx, "init", spec.init_command, spec.init_tool, spec.init_tool_args, "{}");
  check_environment_tool(ctx, "check", spec.check_command, spec.check_tool, spec.check_tool_args,
                         spec.check_tool_expect);
}

using detail::value_or_throw;

/// Opens the workspace in a step body.
workspace open_workspace(const std::string& dir, const std::string& where) {
  return value_or_throw(workspace::open_or_init(dir), where);
}

// -- the initializer ----------------------------------------------------------

/// Step "session 1/workspace": the repository, .gitignore (.endure/ holds
/// what the runtime tells the tools, not history), init.sh and check.sh,
/// committed as the initializer's write-back.
task<std::string> initialize_workspace(context& ctx, const long_task_spec& spec,
                                       bool allow_empty) {
  auto where = "run " + ctx.run_id() + ", step 'session 1/workspace'";
  auto body = [where](const std::string& dir, const std::string& init, const std::string& check) {
    auto ws = open_workspace(dir, where);
    value_or_throw(ws.write_file(".gitignore", ".endure/\n"), where);
    if (!init.empty())
      value_or_throw(ws.write_file("init.sh", "#!/bin/sh\n# Prepares the environment.\n" + init + "\n"),
               where);
    if (!check.empty())
      value_or_throw(ws.write_file("check.sh", "#!/bin/sh\n# The basic end-to-end check.\n" + check
                                           + "\n"),
               where);
    return std::string{"initialized"};
  };
  auto step = ctx.step("session 1/workspace", body, spec.workspace.string(), spec.init_command,
                       spec.check_command);
  co_await std::move(step);
  auto commit = commit_workspace(ctx, spec.workspace.string(),
                                 "Initialize task " + spec.task + ": a ledger of "
                                   + std::to_string(spec.items.size())
                                   + " items, all failing; init.sh and check.sh",
                                 allow_empty);
  co_return co_await std::move(commit);
}

/// The initializer; `resumed_after` is the last session of an earlier run
/// of the task (0: none). A new run of a task that has a progress log
/// (a run that was stopped or failed) finds its ledger, brings init.sh and
/// check.sh up to date (a commit only if they changed) and writes no entry:
/// its sessions follow the log's, which it must never write over.
task<void> initializer(context& ctx, const long_task_spec& spec, std::uint32_t resumed_after) {
  // Claimed in the same step, before anything of the task is written.
  auto ledger = create_ledger(ctx, spec.task, spec.goal, spec.items,
                              std::filesystem::absolute(spec.workspace).string(), /*claim=*/true);
  co_await std::move(ledger);
  auto ws = initialize_workspace(ctx, spec, /*allow_empty=*/resumed_after == 0);
  auto commit = co_await std::move(ws);
  if (resumed_after > 0)
    co_return;
  progress_entry first;
  first.session = 1;
  auto now = ctx.now();
  first.at_ms = co_await std::move(now);
  first.tried = "Initialized the task: a ledger of " + std::to_string(spec.items.size())
                + " items, all failing; the workspace (git) with init.sh and check.sh.";
  first.changed = "commit " + commit.substr(0, 12);
  first.next = "Work on the highest-priority failing item.";
  first.ended = "initialized";
  auto write = write_progress(ctx, spec.task, first);
  co_await std::move(write);
}

// -- wake ---------------------------------------------------------------------

struct wake_report {
  std::vector<progress_entry> progress;
  std::vector<std::string> recent;  ///< git log lines, then init and check, newest last
};

/// Init or check (`which`), as a step: init.sh / check.sh in the
/// workspace, or the spec's tool; its evidence in words.
task<std::string> prepare_environment(context& ctx, const long_task_spec& spec,
                                      std::uint32_t session, std::string which) {
  bool init = which == "init";
  verification v;
  v.tool = init ? spec.init_tool : spec.check_tool;
  v.tool_args = init ? spec.init_tool_args : spec.check_tool_args;
  v.expect_result = init ? "{}" : spec.check_tool_expect;
  auto body = [tools = ctx.tools()](const std::string& dir, const std::string& which,
                                    const std::string& tool, const std::string& args,
                                    const std::string& expect, std::int64_t timeout_ms) {
    verification v;
    v.tool = tool;
    v.tool_args = args;
    v.expect_result = expect;
    v.timeout = std::chrono::milliseconds{timeout_ms};
    auto shown = tool.empty() ? which + ".sh" : which + " (tool " + tool + ")";
    if (tool.empty()) {
      if (!std::filesystem::exists(std::filesystem::path{dir} / (which + ".sh")))
        return shown + ": none";
      v.command = "sh ./" + which + ".sh";
    }
    auto e = run_check(v, dir, tools);
    return e.passed ? shown + ": passed"
                    : shown + ": FAILED: " + e.reason + "; output: " + tail_of(e.output_tail, 400);
  };
  auto step = ctx.step(session_name(session) + "/wake: " + which, body, spec.workspace.string(),
                       which, v.tool, v.tool_args, v.expect_result,
                       static_cast<std::int64_t>(spec.init_timeout.count()));
  co_return co_await std::move(step);
}

task<wake_report> wake(context& ctx, const long_task_spec& spec, std::uint32_t session) {
  wake_report w;
  // The newest entries only: the context shows no more, and a task of
  // thousands of sessions must not read (and journal) its whole log each time.
  auto progress = read_progress(ctx, spec.task, session_name(session) + "/wake: progress",
                                context_limits{}.progress);
  w.progress = co_await std::move(progress);
  auto where = "run " + ctx.run_id() + ", step '" + session_name(session) + "/wake: git log'";
  auto git_log = [where](const std::string& dir) {
    auto ws = open_workspace(dir, where);
    // What a killed session left uncommitted is not trusted: the tree goes
    // back to the last write-back.
    value_or_throw(ws.discard_changes(), where);
    std::vector<std::string> lines;
    for (auto& c : value_or_throw(ws.log(10), where))
      lines.push_back("git " + c.id.substr(0, 12) + " " + c.message.substr(0, c.message.find('\n')));
    std::reverse(lines.begin(), lines.end());  // newest last, as `recent` wants
    return lines;
  };
  auto log = ctx.step(session_name(session) + "/wake: git log", git_log, spec.workspace.string());
  w.recent = co_await std::move(log);
  auto init = prepare_environment(ctx, spec, session, "init");
  w.recent.push_back(co_await std::move(init));
  auto check = prepare_environment(ctx, spec, session, "check");
  w.recent.push_back(co_await std::move(check));
  co_return w;
}

// -- orient -------------------------------------------------------------------

/// Step "session N/orient[ K]": the ledger's view now (the counts, the item
/// chosen by next_to_work_on and the next failing ones the context lists),
/// the chosen item told to the tools through .endure/current-item.json in
/// the workspace.
task<ledger_view> orient(context& ctx, const long_task_spec& spec, std::uint32_t session,
                         std::uint32_t round) {
  auto name = session_name(session) + "/orient" + (round > 1 ? " " + std::to_string(round) : "");
  auto read = read_ledger_view(ctx, spec.task, name, context_limits{}.next_items);
  auto o = co_await std::move(read);
  if (o.current.empty())
    co_return o;
  auto* chosen = &o.items.front();
  auto where = "run " + ctx.run_id() + ", step '" + name + ": tell the tools'";
  auto tell = [where](const std::string& dir, const std::string& item_json) {
    auto ws = open_workspace(dir, where);
    value_or_throw(ws.write_file(current_item_file, item_json), where);
  };
  auto step = ctx.step(name + ": tell the tools", tell, spec.workspace.string(),
                       current_item_json(spec.task, session, *chosen));
  co_await std::move(step);
  co_return o;
}

// -- work and verify ----------------------------------------------------------

/// The model a session runs on: `chosen` goes into its requests (empty:
/// the backend's default), `shown` into its progress entry and commit.
struct session_model {
  std::string chosen;
  std::string shown;
};


/// What the assembled state may fill of the budget: its share, less the
/// schemas of the tools run_agent offers (sent on every turn, counted as
/// the loop counts them); the rest is the session's conversation. A
/// misconfigured tool list fails the run here, before any session works.
std::size_t state_budget(context& ctx, const long_task_spec& spec) {
  auto share = static_cast<std::size_t>(static_cast<double>(spec.context_budget_tokens)
                                        * spec.state_share);
  net::chat_request tools_only;
  tools_only.tools = agent::offered_tools(ctx, spec.agent);
  auto tools = net::estimate_prompt_tokens(tools_only);
  return share > tools ? share - tools : 0;
}

struct work_report {
  std::string item;
  std::string tried;
  std::string ended;  ///< "verified", "verification failed", "context budget", "agent failed"
  bool passing = false;
  std::string reason;  ///< the failing verification's
};

std::string first_words(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : text.substr(0, max) + "...";
}

std::string joined(const std::vector<std::string>& parts, const char* none) {
  std::string out;
  for (auto& p : parts)
    out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? none : out;
}

task<work_report> work_on(context& ctx, const long_task_spec& spec, std::uint32_t session,
                          const session_model& model, const ledger_view& o,
                          const wake_report& w) {
  std::vector<memory_hit> memories;
  if (!spec.memory_namespace.empty()) {
    auto& item = o.items.front();  // the current one
    auto recalling = recall(ctx, spec.memory_namespace, item.description, spec.memory_hits);
    memories = co_await std::move(recalling);
  }
  context_inputs in;
  in.memories = memories;
  in.task = spec.task;
  in.goal = spec.goal;
  in.instructions = spec.agent.system_prompt;
  in.items = o.items;
  in.counts = ledger_counts{o.total, o.passing};
  in.progress = w.progress;
  in.current_item = o.current;
  in.recent = w.recent;
  in.budget_tokens = state_budget(ctx, spec);
  auto assembled = assemble_context(in);
  if (!assembled)
    throw fatal_error("run " + ctx.run_id() + ", " + session_name(session) + ", item " + o.current
                      + ": " + assembled.error().message);
  agent::agent_spec agent = spec.agent;
  agent.name = std::to_string(session) + "/" + o.current;
  agent.system_prompt = assembled->system;
  agent.context_budget_tokens = spec.context_budget_tokens;
  if (!model.chosen.empty())
    agent.settings.model = model.chosen;
  work_report r;
  r.item = o.current;
  std::string failed;
  agent::agent_answer answer;
  try {
    auto run = agent::run_agent(ctx, agent, assembled->user);
    answer = co_await std::move(run);
  } catch (const step_error& e) {  // max_turns, the model down for good: the item waits
    failed = e.what();
  }
  auto verify = verify_item(ctx, spec.task, o.current, spec.workspace, session);
  auto item = co_await std::move(verify);
  r.passing = item.status == item_status::passing;
  r.reason = item.last ? item.last->reason : "";
  r.tried = o.current + ": ";
  if (!failed.empty())
    r.tried += "the agent failed (" + first_words(failed, 200) + ")";
  else
    r.tried += std::to_string(answer.turns) + " model turns, tools "
               + joined(answer.tools_called, "none")
               + (answer.text.empty() ? "" : "; it said: " + first_words(answer.text, 160));
  r.ended = r.passing                ? "verified"
            : !failed.empty()        ? "agent failed"
            : answer.out_of_context  ? "context budget"
                                     : "verification failed";
  co_return r;
}

// -- write back ---------------------------------------------------------------

task<std::string> write_back(context& ctx, const long_task_spec& spec, std::uint32_t session,
                             const std::string& model, const std::vector<work_report>& done,
                             const std::string& next) {
  // `model`: the name the session is shown under (session_model::shown).
  std::string summary;
  std::vector<std::string> items;
  for (auto& r : done) {
    items.push_back(r.item);
    summary += (summary.empty() ? "" : "; ") + r.item
               + (r.passing ? " passes" : " still fails (" + r.reason + ")");
  }
  auto message = "Session " + std::to_string(session) + (model.empty() ? "" : " (" + model + ")")
                 + ": " + (summary.empty() ? std::string{"no item worked on"} : summary);
  auto commit_step = commit_workspace(ctx, spec.workspace.string(), message, /*allow_empty=*/true);
  auto commit = co_await std::move(commit_step);
  progress_entry e;
  e.session = session;
  e.model = model;
  e.items = items;
  for (auto& r : done)
    e.tried += (e.tried.empty() ? "" : " | ") + r.tried;
  e.changed = "commit " + commit.substr(0, 12) + "; " + summary;
  e.next = next;
  e.ended = done.empty() ? "nothing to do" : done.back().ended;
  auto now = ctx.now();
  e.at_ms = co_await std::move(now);
  auto write = write_progress(ctx, spec.task, e);
  co_await std::move(write);
  if (!spec.memory_namespace.empty()) {
    auto remembering = remember(ctx, spec.memory_namespace, "session " + std::to_string(session),
                                "Session " + std::to_string(session) + ": " + e.tried + ". "
                                  + e.changed + ". Next: " + e.next,
                                {.session = std::to_string(session)});
    co_await std::move(remembering);
  }
  co_return commit;
}

/// Step "session N/begin": the session's model, chosen once and journaled
/// (a restart with another model configured changes the sessions to come,
/// never the ones begun).
task<session_model> begin_session(context& ctx, const long_task_spec& spec,
                                  std::uint32_t session) {
  auto* services = agent::detail::context_access::services(ctx);
  auto backend = services && services->llm() ? services->llm()->name() : std::string{};
  auto choose = [pick = spec.model, fallback = spec.agent.settings.model,
                 backend](std::uint32_t) {
    auto chosen = pick ? pick() : fallback;
    return json{{"chosen", chosen}, {"shown", chosen.empty() ? backend : chosen}}.dump();
  };
  auto step = ctx.step(session_name(session) + "/begin", choose, session);
  auto j = json::parse(co_await std::move(step));
  co_return session_model{j.at("chosen").get<std::string>(), j.at("shown").get<std::string>()};
}

/// One session; true when it found every item passing (nothing to do).
task<bool> run_session(context& ctx, const long_task_spec& spec,
                                  std::uint32_t session, long_task_result& result) {
  auto begin = begin_session(ctx, spec, session);
  auto model = co_await std::move(begin);
  auto woke = wake(ctx, spec, session);
  auto w = co_await std::move(woke);
  std::vector<work_report> done;
  std::string next;
  for (std::uint32_t round = 1;; ++round) {
    auto oriented = orient(ctx, spec, session, round);
    auto o = co_await std::move(oriented);
    if (o.current.empty()) {
      if (done.empty())
        co_return true;
      next = "Every item passes: complete the task.";
      break;
    }
    if (round > spec.items_per_session) {  // the cap: the next item is the next session's
      next = "Work on " + o.current + " (the highest-priority failing item).";
      break;
    }
    auto work = work_on(ctx, spec, session, model, o, w);
    done.push_back(co_await std::move(work));
    ++result.verifications;
    if (!done.back().passing) {
      next = "Work on " + done.back().item + " again: its verification failed ("
             + done.back().reason + ").";
      break;
    }
    w.recent.push_back("verified " + done.back().item + ": passing");
  }
  auto wb = write_back(ctx, spec, session, model.shown, done, next);
  co_await std::move(wb);
  co_return false;
}

/// After max_sessions: a person decides. Returns true to carry on.
task<bool> at_session_limit(context& ctx, const long_task_spec& spec, std::uint32_t sessions) {
  auto read = read_ledger(ctx, spec.task, "limit " + std::to_string(sessions) + ": ledger");
  auto items = co_await std::move(read);
  std::string failing;
  for (auto& it : items)
    if (it.status == item_status::failing)
      failing += (failing.empty() ? "" : ", ") + it.id;
  auto asked = detail::ask_person(
    ctx,
    "Task " + spec.task + " ran " + std::to_string(sessions) + " work sessions and these items "
      + "still fail: " + failing + ". Continue for " + std::to_string(spec.max_sessions)
      + " more sessions, override the failing items (they count as passing on your word, "
        "audited), or stop the task?",
    {"continue", "override", "stop"}, "task " + spec.task);
  auto answer = co_await std::move(asked);
  if (answer.text == "continue")
    co_return true;
  // Fail closed: only "override" overrides; "stop", or anything else a
  // channel might deliver, stops the task.
  if (answer.text != "override")
    throw fatal_error("run " + ctx.run_id() + ": task " + spec.task + " stopped by "
                      + answer.by + " after " + std::to_string(sessions)
                      + " work sessions; failing: " + failing
                      + (answer.text == "stop" ? "" : " (answer: \"" + answer.text + "\")"));
  for (auto& it : items)
    if (it.status == item_status::failing) {
      auto step = apply_override(ctx, spec.task, it.id, answer.by,
                                 "overridden at the session limit (" + std::to_string(sessions)
                                   + " work sessions)");
      co_await std::move(step);
    }
  co_return false;
}

} // namespace

task<long_task_result> run_long_task(context& ctx, long_task_spec spec) {
  check_spec(ctx, spec);
  // The task's progress log so far (journaled: a replay sees what the run
  // saw): a new run of a task carries on after its last session.
  auto so_far = read_progress(ctx, spec.task, "task: progress so far", 1);
  auto earlier = co_await std::move(so_far);
  std::uint32_t resumed_after = earlier.empty() ? 0 : earlier.back().session;
  auto init = initializer(ctx, spec, resumed_after);
  co_await std::move(init);
  long_task_result result;
  result.sessions = std::max<std::uint32_t>(1, resumed_after);
  const std::uint32_t first = result.sessions + 1;  // this run's first work session
  std::uint32_t limit = spec.max_sessions;
  for (std::uint32_t session = first;; ++session) {
    if (session - first >= limit) {  // this run's work sessions so far
      auto decide = at_session_limit(ctx, spec, session - first);
      if (!co_await std::move(decide))
        break;
      limit += spec.max_sessions;
    }
    auto run = run_session(ctx, spec, session, result);
    if (co_await std::move(run))  // every item passes
      break;
    result.sessions = session;
  }
  auto complete = complete_task(ctx, spec.task);
  co_await std::move(complete);
  auto read = read_ledger(ctx, spec.task, "ledger:final");
  auto items = co_await std::move(read);
  result.items = static_cast<std::uint32_t>(items.size());
  for (auto& it : items) {
    if (!it.overridden_by.empty())
      ++result.overridden;
    else if (it.status == item_status::passing)
      ++result.verified;
  }
  auto head = commit_workspace(ctx, spec.workspace.string(), "Task " + spec.task + " complete");
  result.last_commit = co_await std::move(head);
  co_return result;
}

} // namespace endure::state
