// `endure demo`: the README's main job, with no network. Runs the content
// agent (examples/content_agent/: a run_agent with search, read, draft,
// publish and ask_human) once per keyword on the sim model with injected
// faults, in a worker process; shows each run's progress from the journal;
// lets a reviewer (scripted, or the person at the terminal with
// --interactive) decide what the policy gate holds (publish) and answer
// what the agent asks (ambiguous keywords); kills the worker with SIGKILL
// once --kill-at of the steps are done and a request is pending, decides
// what is pending while it is down, restarts it, and ends with what the
// journal saved and what people decided.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "content_agent.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/content_pipeline.hpp"
#include "endure/cli/demo_data_dir.hpp"
#include "endure/cli/demo_escalation.hpp"
#include "endure/cli/demo_journal.hpp"
#include "endure/cli/demo_long_task.hpp"
#include "endure/cli/demo_options.hpp"
#include "endure/cli/demo_reviewer.hpp"
#include "endure/cli/journal_view.hpp"

namespace endure::cli {

namespace {

using clock_type = std::chrono::steady_clock;

/// A run's steps without a question: 5 model turns (search, read, draft,
/// publish, the answer), a gate and a tool step per tool call, and for the
/// publish the wait for its decision and the step that reads it. A
/// question adds a turn, the ask_human step, its wait and its read. Only
/// for the kill point: retries and re-proposals change the real count.
constexpr std::size_t agent_steps = 5 + 2 * 4 + 2;
constexpr std::size_t question_steps = 4;

struct demo_state {
  demo_options o;
  bool interactive = false;
  std::string data_dir;
  std::string report;
  std::string site;
  std::unique_ptr<demo_reviewer> reviewer;
  std::vector<std::string> ids;
  clock_type::time_point t0 = clock_type::now();
  std::map<std::string, std::string> shown;  ///< last line printed per run
};

double elapsed_s(const demo_state& s) {
  return std::chrono::duration<double>(clock_type::now() - s.t0).count();
}

std::string stamp(const demo_state& s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "[%6.1fs]", elapsed_s(s));
  return buf;
}

std::size_t expected_steps(const demo_options& o) {
  std::size_t n = 0;
  for (auto& k : o.keywords)
    n += agent_steps + (demo_intent(o, k) == "ambiguous" ? question_steps : 0);
  return n;
}

void show_progress(demo_state& s, const demo_totals& t) {
  for (auto& p : t.runs) {
    char line[200];
    auto end = p.finished_ms ? p.finished_ms : now_ms();
    std::snprintf(line, sizeof line, "%-22s %-9s %2zu steps done, at %-28s retries %zu",
                  p.id.c_str(), std::string{to_string(p.status)}.c_str(), p.steps_done,
                  p.current_step.c_str(), p.retries);
    if (s.shown[p.id] == line)
      continue;
    s.shown[p.id] = line;
    std::printf("[%6.1fs] %s  (run age %s)\n", elapsed_s(s), line,
                p.started_ms ? format_duration_ms(end - p.started_ms).c_str() : "-");
  }
  std::fflush(stdout);
}

/// The reviewer's moment of thought before a decision: runs visibly wait.
constexpr auto think_time = std::chrono::milliseconds(700);

/// Polls until the worker exits, or (when `kill_at_steps` > 0) kills it once
/// that many steps are done and a request waits for a person. Returns the
/// exit status, or -1 if killed.
int watch(demo_state& s, pid_t pid, std::size_t kill_at_steps) {
  auto deadline = clock_type::now() + std::chrono::minutes(30);
  while (clock_type::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (auto t = read_demo_totals(s.data_dir, s.ids))
        show_progress(s, *t);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    auto t = read_demo_totals(s.data_dir, s.ids);
    auto pending = s.reviewer->review(think_time);
    if (t) {
      show_progress(s, *t);
      if (kill_at_steps > 0 && t->steps_done >= kill_at_steps && pending > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  fail("demo: the worker did not finish within 30 minutes; killed it");
  return 1;
}

std::map<std::string, std::size_t> read_report(const std::string& path) {
  std::map<std::string, std::size_t> out;
  std::ifstream in(path);
  std::string key;
  std::size_t value = 0;
  while (in >> key >> value)
    out[key] = value;
  return out;
}

std::string seconds_text(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

/// Approvals and questions: how many, who decided, how long runs waited.
void print_people(const demo_state& s) {
  auto p = read_demo_people(s.data_dir);
  if (!p) {
    std::printf("people: cannot read the requests: %s\n", p.error().message.c_str());
    return;
  }
  std::printf("people in the loop: %zu publish(es) held for approval, %zu question(s) asked, "
              "%zu still pending\n", p->approvals, p->questions, p->pending);
  std::printf("  decisions:");
  for (auto& [what, n] : p->by_decision)
    std::printf(" %s %zu", what.c_str(), n);
  std::printf("%s\n  decided by:", p->by_decision.empty() ? " none" : "");
  for (auto& [who, n] : p->by_principal)
    std::printf(" %s %zu", who.c_str(), n);
  std::printf("%s\n", p->by_principal.empty() ? " nobody" : "");
  if (!p->waits_ms.empty())
    std::printf("  runs waited for a person: median %s, longest %s\n",
                seconds_text(p->waits_ms[p->waits_ms.size() / 2]).c_str(),
                seconds_text(p->waits_ms.back()).c_str());
  if (s.reviewer->decided_offline() > 0)
    std::printf("  decided while the worker was down: %zu (journaled, delivered at the "
                "restart)\n", s.reviewer->decided_offline());
  std::error_code ec;
  std::size_t articles = 0;
  for (auto it = std::filesystem::directory_iterator(s.site, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    articles += it->path().extension() == ".md" ? 1 : 0;
  auto approved = p->by_decision["approve"] + p->by_decision["edit"];
  std::printf("articles published: %zu (in %s) for %zu approved publish(es)%s\n", articles,
              s.site.c_str(), approved,
              articles == approved ? "" : ": they differ, see each run's tool:publish step");
}

void print_summary(const demo_state& s, const demo_totals& before, const demo_totals& after,
                   bool killed) {
  auto report = read_report(s.report);
  std::printf("\n== summary (%.1fs) ==\n", elapsed_s(s));
  std::printf("model: %s\n", demo_model_description(s.o).c_str());
  std::printf("runs completed: %zu of %zu\n", after.runs_completed, s.ids.size());
  std::printf("steps completed: %zu (step attempts executed: %zu)\n", after.steps_done,
              after.attempts);
  if (killed)
    std::printf("worker killed with SIGKILL after %zu steps, when %zu of %zu runs had "
                "finished\n",
                before.steps_done, s.ids.size() - before.redo.runs, s.ids.size());
  std::printf("steps replayed from the journal instead of re-run: %zu%s\n", report["replayed"],
              killed ? " (the steps the unfinished runs had completed)" : "");
  std::printf("steps cut off by the kill and run again: %zu\n", after.attempts_lost);
  std::printf("retries by error class:");
  if (after.retries_by_class.empty())
    std::printf(" none");
  for (auto& [cls, n] : after.retries_by_class)
    std::printf(" %s %zu", cls.c_str(), n);
  std::printf("\nmodel cost of the whole demo: $%.4f (%llu tokens at $%.4f / $%.4f per 1k "
              "prompt / completion tokens)\n",
              after.cost_usd, static_cast<unsigned long long>(after.tokens),
              s.o.input_price_per_1k, s.o.output_price_per_1k);
  if (killed) {
    // A restart without the journal would start the unfinished runs over:
    // their completed steps are what it would pay for again (and what the
    // restart with the journal replayed). Finished runs would not run again.
    std::printf("cost a restart from scratch would have spent again: $%.4f (the %zu steps the "
                "%zu unfinished runs had completed before the kill)\n",
                before.redo.cost_usd, before.redo.steps, before.redo.runs);
    if (before.redo.steps != report["replayed"])
      std::printf("note: the journal held %zu completed steps of unfinished runs, the restarted "
                  "worker replayed %zu\n",
                  before.redo.steps, report["replayed"]);
  }
  print_people(s);
  std::printf("inspect a run: endure --data %s inspect %s\n", s.data_dir.c_str(),
              s.ids.front().c_str());
  std::printf("or in a browser: endure --data %s token create you --role admin, then endure "
              "--data %s serve --http 127.0.0.1:8080 and open http://127.0.0.1:8080/\n",
              s.data_dir.c_str(), s.data_dir.c_str());
  std::fflush(stdout);
}

/// Runs the worker, kills it at --kill-at, runs it again. `before` gets the
/// journal's totals at the kill. Returns the last worker's exit status.
int run_worker_twice(const command_env& env, demo_state& s, demo_totals& before, bool& killed) {
  auto args = demo_worker_argv(s.o, s.data_dir, env.globals.mode, s.report, s.site);
  auto total = expected_steps(s.o);
  auto kill_at = std::max<std::size_t>(1, static_cast<std::size_t>(s.o.kill_at * total));
  pid_t pid = spawn_demo_worker(args);
  int code = watch(s, pid, kill_at);
  killed = code == -1;
  if (!killed) {
    std::printf("the worker finished before the kill point (%zu steps)\n", kill_at);
    return code;
  }
  auto t = read_demo_totals(s.data_dir, s.ids);
  if (!t)
    return fail("demo: cannot read the journal after the kill: " + t.error().message);
  before = *t;
  std::printf("%s *** killed worker pid %d with SIGKILL after %zu steps, %zu request(s) "
              "waiting for a person ***\n",
              stamp(s).c_str(), static_cast<int>(pid), before.steps_done,
              s.reviewer->review(think_time));
  // Decisions need no running process: they go into the journal and reach
  // their runs when the worker is back.
  s.reviewer->review(std::chrono::milliseconds(0));
  std::printf("%s *** restarting the worker: completed steps replay from the journal, "
              "waiting runs stay parked until decided ***\n", stamp(s).c_str());
  std::fflush(stdout);
  return watch(s, spawn_demo_worker(args), 0);
}

/// A later stage's data directory: beside the first stage's.
std::string demo_stage_dir(const demo_state& s, const char* name) {
  return (std::filesystem::path{s.data_dir}.parent_path() / name).string();
}

/// Stage 4: the escalation matrix learns when to ask (demo_escalation.hpp).
int show_escalation_stage(const command_env& env, demo_state& s) {
  std::printf("\n== stage 4: the escalation matrix learns when to ask a person ==\n");
  auto dir = demo_stage_dir(s, "demo-escalation");
  auto r = run_escalation_stage(env, dir, [&s] { return stamp(s); });
  if (!r)
    return fail("demo: the escalation stage failed: " + r.error().message);
  std::printf("escalation matrix: round 1 escalated %zu of %zu answers (the reviewer corrected "
              "%zu); round 2, similar keywords: %zu of %zu escalated (%zu corrected)\n"
              "inspect a corrected answer: endure --data %s inspect intent-1-1\n",
              r->first_escalated, r->per_round, r->first_corrected, r->second_escalated,
              r->per_round, r->second_corrected, dir.c_str());
  return 0;
}

/// Stage 5: a long task keeps its state (demo_long_task.hpp).
int show_calendar_stage(const command_env& env, demo_state& s) {
  std::printf("\n== stage 5: a long task keeps its state across sessions and a SIGKILL ==\n");
  auto dir = demo_stage_dir(s, "demo-long-task");
  auto r = run_calendar_stage(env, dir, s.o.keywords, [&s] { return stamp(s); });
  if (!r)
    return fail("demo: the long-task stage failed: " + r.error().message);
  std::printf("\ncontent calendar: %zu of %zu pages pass on evidence after %zu sessions (killed "
              "after %zu)\nsee it again: endure --data %s task content-calendar\n",
              r->passing, r->items, r->sessions, r->sessions_at_kill, dir.c_str());
  std::fflush(stdout);
  return 0;
}

int run_demo(const command_env& env, demo_state& s) {
  std::error_code ec;
  // Every stage's directory, before anything is written: a process still
  // holding one of them (a serve the demo's hint started) keeps it.
  for (auto& dir : {s.data_dir, demo_stage_dir(s, "demo-escalation"),
                    demo_stage_dir(s, "demo-long-task")})
    if (auto cleared = clear_demo_dir(dir); !cleared)
      return fail("demo: " + cleared.error().message);
  std::filesystem::remove(s.report, ec);  // a stale report would lie
  std::filesystem::remove_all(s.site, ec);
  std::filesystem::create_directories(s.data_dir, ec);
  if (ec)
    return fail("demo: cannot create " + s.data_dir + ": " + ec.message()
                + " (choose another --data)");
  for (auto& k : s.o.keywords)
    s.ids.push_back(demo_run_id(k));
  std::printf("endure demo: %zu content agent runs (search, read, draft, publish, ask_human), "
              "data in %s\nmodel: %s\npolicy: %s (publish waits for an editor)\n"
              "reviewer: %s\n",
              s.ids.size(), s.data_dir.c_str(), demo_model_description(s.o).c_str(),
              s.o.policy_file.empty() ? "examples/content_agent/policy.yaml"
                                      : s.o.policy_file.c_str(),
              s.interactive ? "you (--interactive)" : "scripted (ed approves, ann answers)");
  std::fflush(stdout);
  demo_totals before;
  bool killed = false;
  int code = run_worker_twice(env, s, before, killed);
  auto after = read_demo_totals(s.data_dir, s.ids);
  if (!after)
    return fail("demo: cannot read the journal: " + after.error().message);
  print_summary(s, before, *after, killed);
  if (code != 0)
    return fail("demo: the worker exited with status " + std::to_string(code));
  if (int stage4 = show_escalation_stage(env, s); stage4 != 0)
    return stage4;
  return show_calendar_stage(env, s);
}

} // namespace

void add_demo_command(CLI::App& app, command_env& env) {
  auto s = std::make_shared<demo_state>();
  auto* cmd = app.add_subcommand(
    "demo", "the content agent demo: model calls with faults, a policy gate, a question for a "
            "person, a SIGKILL, the replay");
  add_demo_flags(cmd, s->o);
  cmd->add_option("--kill-at", s->o.kill_at, "fraction of steps done when the worker is killed")
    ->capture_default_str()
    ->check(CLI::Range(0.0, 0.95));
  cmd->add_flag("--interactive", s->interactive,
                "decide the requests yourself at the terminal (default: a scripted reviewer)");
  cmd->callback([&env, s] {
    s->data_dir = env.globals.data_dir + "/demo";
    s->report = env.globals.data_dir + "/demo-worker-report.txt";
    s->site = env.globals.data_dir + "/demo-site";
    command_env reviewer_env = env;
    reviewer_env.globals.data_dir = s->data_dir;
    reviewer_env.tools = content_agent::make_tools(s->site);  // checks edits offline
    auto* state = s.get();
    s->reviewer = std::make_unique<demo_reviewer>(std::move(reviewer_env), s->interactive,
                                                  [state] { return stamp(*state); });
    if (auto problem = demo_options_problem(s->o)) {  // before anything is cleared or started
      fail("demo: " + *problem);
      env.exit_code = 2;
      return;
    }
    env.exit_code = run_demo(env, *s);
  });
}

} // namespace endure::cli
