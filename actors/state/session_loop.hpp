// run_long_task: the session loop for agents that outlive a context window
// (the talk's "wake up, orient, work, write back"). What survives context
// resets, process restarts and agent swaps is the task's state: its ledger,
// progress log and workspace, never a chat history.
//
//   state::long_task_spec spec;
//   spec.task = "manual";
//   spec.goal = "Write the operator's manual";
//   spec.items = *state::ledger_spec_from_json(ledger_text);
//   spec.workspace = "/srv/tasks/manual";
//   spec.check_command = "test -d docs";
//   spec.agent.tools = {"write_doc"};
//   auto done = co_await state::run_long_task(ctx, spec);
//
// A new run of a task that already has a progress log (an earlier run
// stopped or failed) finds its ledger and workspace and numbers its
// sessions after the log's last one: it never writes over that log.
//
// Session 1, the initializer, creates the ledger (every item failing), the
// workspace (a git repository; .endure/ ignored) with init.sh and check.sh
// from the spec, and the first progress entry, and does no work itself.
// Every later session, all of it journaled steps:
//
//   session N/begin           the session's model (spec.model(): an agent swap)
//   session N/wake: progress  the progress log's newest 10 entries (what the
//                             context shows), newest first in context
//   session N/wake: git log   the workspace's last commits
//   session N/wake: init      init.sh, then check.sh, or the init and check
//   session N/wake: check     tools (evidence; never assume a healthy
//                             environment: a failure goes in context)
//   session N/orient          the ledger's counts and the highest-priority
//                             failing item (one), written to
//                             .endure/current-item.json for the tools, with
//                             the next 20 failing (a ledger_view: the whole
//                             ledger is never parsed or journaled per session)
//   recall:NS                 memory entries close to the item (memory_namespace)
//   N/ITEM/turn k, tool:...   run_agent on that item, in a fresh context the
//                             assembler built under the budget
//   verify:ITEM               its verification: passing only with evidence
//   workspace:commit          the write-back: one commit, tree clean
//   progress:N                what was tried, what changed, what is next
//   remember:NS               the session's summary (memory_namespace)
//
// Items worked per session: at most items_per_session (default 1: no
// one-shotting); the session ends at the first that fails verification or
// when the agent runs out of its context budget. The task completes only
// when every item passes (ledger:complete refuses otherwise); the agent's
// words ("all done") change nothing. After max_sessions a person is asked
// through the human gateway: continue, override the failing items (audited
// with their name) or stop. A kill -9 anywhere resumes in that phase: every
// phase is steps, replayed, never re-run; a re-run write-back finds its
// commit by key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/context.hpp"
#include "endure/actors/state/ledger_types.hpp"
#include "endure/actors/task.hpp"

namespace endure::state {

struct long_task_spec {
  /// The task's id (state::valid_id): its ledger, progress log and
  /// artifacts are keyed by it. Required.
  std::string task;
  /// What the task is for, in words the agent reads. Required.
  std::string goal;
  /// The ledger (ledger_spec_from_json). Required, at least one item.
  std::vector<ledger_item> items;
  /// The task's workspace directory (created as a git repository). Required.
  std::filesystem::path workspace;
  /// Prepares the environment at every wake-up (init.sh). Default: none.
  std::string init_command;
  /// The basic end-to-end check run after init (check.sh). Default: none.
  std::string check_command;
  /// Or, instead of init_command: a tool of the runtime's registry
  /// (runtime_options::tools) that prepares the environment, called at
  /// every wake-up with init_tool_args (a JSON object, as text); it fails
  /// when it throws or answers {"error": ...}. Default: none.
  std::string init_tool;
  std::string init_tool_args = "{}";
  /// Or, instead of check_command: a tool for the end-to-end check, called
  /// after init with check_tool_args; it passes when its result holds every
  /// field of check_tool_expect (a JSON object, as text). Default: none.
  std::string check_tool;
  std::string check_tool_args = "{}";
  std::string check_tool_expect = "{}";
  /// init and check (commands or tools) are each cut off after this.
  /// Default: 120 s.
  std::chrono::milliseconds init_timeout{120'000};
  /// The worker agent: tools, instructions (its system prompt), model
  /// settings, max_turns. Its name is replaced per session.
  agent::agent_spec agent;
  /// Most prompt tokens of one model call: the assembler fills a session's
  /// first prompt up to it, and the session ends when its conversation
  /// would exceed it. Default: 4000.
  std::size_t context_budget_tokens = 4000;
  /// The share of the budget the assembled state (ledger, progress, item,
  /// recent results) may fill, the offered tools' schemas included; the
  /// rest is left for the session's own turns. Default: 0.5.
  double state_share = 0.5;
  /// Items one session may work on (one-shotting cap). Default: 1.
  std::uint32_t items_per_session = 1;
  /// Work sessions before a person is asked to continue, override or stop.
  /// Default: 100.
  std::uint32_t max_sessions = 100;
  /// The model of each new session (an agent swap), asked once per session
  /// and journaled; empty: agent.settings.model. Default: empty.
  std::function<std::string()> model;
  /// The memory namespace the task remembers in (needs
  /// runtime_options::memory): before the agent works on an item, the
  /// `memory_hits` entries closest to the item go into its context; at
  /// write-back the session's summary is remembered ("session N"), so a
  /// later session on a related item finds what was learnt. Empty: no
  /// memory. Default: empty.
  std::string memory_namespace;
  std::size_t memory_hits = 5;
};

struct long_task_result {
  /// The task's last session (the initializer is session 1; a new run of
  /// a task numbers its sessions after the progress log's last one).
  std::uint32_t sessions = 0;
  std::uint32_t items = 0;          ///< items in the ledger
  std::uint32_t verified = 0;       ///< items passing on evidence
  std::uint32_t overridden = 0;     ///< items passing on a person's override
  std::uint32_t verifications = 0;  ///< verifications run
  std::string last_commit;          ///< the workspace's HEAD at completion
  MSGPACK_DEFINE_MAP(sessions, items, verified, overridden, verifications, last_commit);
};

/// Runs the task to completion (see above). Fails the run (fatal) for a
/// spec that is not valid (naming the field), a ledger under the id with
/// other items, a current item whose required context exceeds the budget,
/// or a person choosing "stop".
task<long_task_result> run_long_task(context& ctx, long_task_spec spec);

} // namespace endure::state
