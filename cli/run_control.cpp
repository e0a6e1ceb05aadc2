// Requests to runs through serve or the journal, with one set of answers
// (run_control.hpp). apply_live runs on a control connection's thread in
// serve; the rest in the client command's main thread.
#include "endure/cli/run_control.hpp"

#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include "endure/actors/gateway/policy.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/cli/human_decision.hpp"
#include "endure/cli/local_socket.hpp"

namespace endure::cli {

namespace {

using namespace std::chrono_literals;

control_reply success(run_status status = run_status::running) {
  return {std::nullopt, status, {}, {}, {}};
}

control_reply failure(const error& e) {
  return control_reply::failure(e.code, e.message);
}

run_request request_kind(control_op op) {
  switch (op) {
  case control_op::cancel:
    return run_request::cancel;
  case control_op::release:
    return run_request::release;
  default:
    return run_request::signal;
  }
}

/// A refusal for the run's status as the journal now holds it, in
/// refusal()'s words, so serve and the offline path say the same.
control_reply refused(const journal& store, const control_request& r, const error& e) {
  auto meta = store.run(r.run_id);
  if (!meta)
    return failure(e);
  auto why = refusal(request_kind(r.op), r.run_id, meta->status);
  return control_reply::failure(errc::invalid_state, why.empty() ? e.message : why,
                                meta->status);
}

expected<void> call_runtime(runtime& rt, const control_request& r) {
  switch (r.op) {
  case control_op::signal:
    return rt.signal_raw(r.run_id, r.name, r.payload);
  case control_op::cancel:
    return rt.cancel(r.run_id, r.reason);
  default:
    return rt.release(r.run_id, r.reason);
  }
}

/// signal, cancel, release on the live runtime. The run's status is checked
/// first with the offline path's rule (refusal()), so both refuse alike;
/// the runtime checks again, and a refusal of its own (the status changed
/// in between) is reported for the status the journal then shows.
control_reply request_live(runtime& rt, const control_request& r) {
  auto meta = rt.store().run(r.run_id);
  if (!meta)
    return failure(meta.error());
  if (auto why = refusal(request_kind(r.op), r.run_id, meta->status); !why.empty())
    return control_reply::failure(errc::invalid_state, why, meta->status);
  auto done = call_runtime(rt, r);
  if (done)
    return success(meta->status);
  // The run exists, so a not_found here is a status refusal too (a runtime
  // before typed errors reported every refusal as not_found).
  auto code = done.error().code;
  if (code == errc::invalid_state || code == errc::not_found)
    return refused(rt.store(), r, done.error());
  return failure(done.error());
}

bool ended(run_status s) {
  return is_terminal(s) || s == run_status::quarantined;
}

control_reply outcome_reply(const run_outcome& out) {
  return {std::nullopt, out.status, out.error, out.result, {}};
}

/// Waits for the run's end in slices, so a stopping serve is noticed. A
/// wait that fails other than by its timeout is checked against the
/// journal: an unknown run is an error, an ended one answers from there,
/// and one still going is waited for again, at most once per slice (a
/// runtime before typed errors reported a wait's timeout as shut_down).
control_reply wait_live(runtime& rt, const std::string& run_id,
                        const std::atomic<bool>& stopping) {
  constexpr auto slice = 200ms;
  while (!stopping) {
    auto began = std::chrono::steady_clock::now();
    auto out = rt.wait(run_id, slice);
    if (out)
      return outcome_reply(*out);
    if (out.error().code == errc::timeout)
      continue;
    auto stored = read_outcome(rt.store(), run_id);
    if (!stored)
      return failure(stored.error());
    if (ended(stored->status))
      return outcome_reply(*stored);
    std::this_thread::sleep_until(began + slice);
  }
  return control_reply::failure(errc::shut_down, "endure serve is stopping");
}

/// Starts the run through start_async, waiting for the answer at most
/// start_answer_limit: a runtime that never answers (a start that reached a
/// run while its actor was restarting after a crash did not, in the runtime
/// of this writing) must not hold serve's connection, nor its shutdown. The
/// journal then says whether the run is durable, which is what start means.
control_reply start_live(runtime& rt, const control_request& r) {
  constexpr auto start_answer_limit = std::chrono::seconds(30);
  // Shared with the callback, which may run after this returns.
  auto answer = std::make_shared<std::promise<expected<run_status>>>();
  auto status = answer->get_future();
  rt.start_async(r.workflow, r.run_id, r.payload,
                 [answer](expected<run_status> s) { answer->set_value(std::move(s)); });
  if (status.wait_for(start_answer_limit) == std::future_status::ready) {
    auto s = status.get();
    return s ? success(*s) : failure(s.error());
  }
  // Durable by now (only the answer was slow), unless it is another
  // workflow's run.
  auto existing = existing_run_status(rt.store(), r.run_id, r.workflow);
  if (existing)
    return success(*existing);
  if (existing.error().code == errc::invalid_state)
    return failure(existing.error());
  return control_reply::failure(errc::timeout, "endure serve's runtime did not answer within "
                                                 + std::to_string(start_answer_limit.count())
                                                 + " s; try again");
}

std::string elapsed_text(std::chrono::milliseconds limit) {
  return std::to_string(limit.count() / 1000) + " s";
}

} // namespace

control_reply apply_live(runtime& rt, const control_request& r,
                         const std::atomic<bool>& stopping) {
  switch (r.op) {
  case control_op::start:
    return start_live(rt, r);
  case control_op::wait:
    return wait_live(rt, r.run_id, stopping);
  case control_op::decide:
    return decide_live(rt, r);
  default:
    return request_live(rt, r);
  }
}

std::string policy_hash_of(const gateway::policy* policy) {
  return policy ? policy->hash() : std::string{};
}

expected<std::unique_ptr<control_server>> open_control_channel(runtime& rt,
                                                               const std::string& data_dir,
                                                               std::string policy_hash,
                                                               std::string only_run) {
  auto handler = [&rt, only_run, data_dir, policy_hash](const control_request& r,
                                                        const std::atomic<bool>& stopping) {
    bool elsewhere = r.op == control_op::start
                     || (r.op == control_op::wait && r.run_id != only_run);
    auto reply = !only_run.empty() && elsewhere
                   ? control_reply::failure(
                       errc::invalid_state,
                       "the process holding " + data_dir + " (endure run) executes only run "
                         + only_run + " and exits when it ends; start other runs once it has, "
                         "or run `endure serve`")
                   : apply_live(rt, r, stopping);
    reply.policy_hash = policy_hash;
    return reply;
  };
  return control_server::start(data_dir, std::move(handler));
}

control_reply apply_offline(journal& store, const control_request& r,
                            const agent::tool_registry* tools) {
  expected<void> done;
  switch (r.op) {
  case control_op::start: {
    auto status = start_offline(store, r.run_id, r.workflow, r.payload);
    return status ? success(*status) : failure(status.error());
  }
  case control_op::signal:
    done = deliver_signal_offline(store, r.run_id, r.name, r.payload);
    break;
  case control_op::cancel:
    done = cancel_offline(store, r.run_id, r.reason);
    break;
  case control_op::release:
    done = release_offline(store, r.run_id, r.reason);
    break;
  case control_op::wait:
    return control_reply::failure(errc::invalid_argument, "waiting needs a runtime");
  case control_op::decide:
    return decide_offline(store, r, tools);
  }
  if (done)
    return success();
  if (done.error().code == errc::invalid_state)
    return refused(store, r, done.error());
  return failure(done.error());
}

int report(const command_env& env, const control_request& r, const control_reply& reply) {
  if (r.op == control_op::decide)
    return report_decision(env, r, reply);
  const auto& id = r.run_id;
  if (reply.code && *reply.code == errc::not_found && r.op != control_op::start)
    return fail("no run '" + id + "' in " + env.globals.data_dir
                + ": see `endure list` for the runs there");
  if (reply.code)
    return fail("cannot " + std::string{to_string(r.op)} + " run " + id + ": " + reply.message);
  switch (r.op) {
  case control_op::start:
    std::cout << "run " << id << ": " << to_string(reply.status)
              << " (durable; a running `endure serve` executes it, else the next `serve` or "
                 "`run`)";
    break;
  case control_op::signal:
    std::cout << "signal " << r.name << " journaled for run " << id;
    break;
  case control_op::cancel:
    std::cout << "cancel journaled for run " << id
              << "; its compensations run in `endure serve` (now, if it is running) or the "
                 "next `endure run`";
    break;
  case control_op::release:
    std::cout << "run " << id << " released; `endure serve` resumes it (now, if it is "
              << "running) or the next `endure run`";
    break;
  case control_op::wait:
  case control_op::decide:
    break;
  }
  std::cout << std::endl;
  return 0;
}

int through_serve_or(const command_env& env, const control_request& r,
                     const serve_or_offline& how) {
  const auto& dir = env.globals.data_dir;
  auto began = std::chrono::steady_clock::now();
  auto past = [&](std::chrono::milliseconds limit) {
    return std::chrono::steady_clock::now() - began > limit;
  };
  bool saw_stopping = false;
  int lost = 0;
  for (;;) {
    auto a = ask_serve(dir, r, how.reply_timeout);
    switch (a.outcome) {
    case channel_outcome::replied:
      if (auto code = how.on_reply(a))
        return *code;
      began = std::chrono::steady_clock::now();  // the limits count from serve's last answer
      break;
    case channel_outcome::refused:
      return fail(a.message);
    case channel_outcome::lost:
      if (!how.idempotent || ++lost > 3)
        return fail(a.message + "; whether the " + std::string{to_string(r.op)}
                    + " was carried out is unknown: check `endure "
                    + (r.op == control_op::decide ? "request " : "inspect ") + r.run_id
                    + "` before repeating it");
      break;
    case channel_outcome::busy:
      if (past(busy_limit))
        return fail("endure serve on " + dir + " stayed busy for " + elapsed_text(busy_limit)
                    + " (" + a.message + "); try again later");
      break;
    case channel_outcome::stopping:
      saw_stopping = true;
      [[fallthrough]];
    case channel_outcome::absent: {
      auto done = how.offline();
      if (done)
        return *done;
      if (past(saw_stopping ? stopping_limit : held_without_channel_limit)) {
        if (done.error().code != errc::data_dir_locked)  // offline would not act: why
          return fail(done.error().message);
        return fail(done.error().message
                    + (saw_stopping ? " (an endure serve that is still stopping)"
                                    : " (not an endure serve: nothing answers on "
                                        + control_socket_path(dir) + ")"));
      }
      break;
    }
    }
    // The directory is changing hands, or serve is busy: a moment, again.
    std::this_thread::sleep_for(20ms);
  }
}

int control(const command_env& env, const control_request& r) {
  serve_or_offline how;
  how.idempotent = r.op == control_op::start;
  how.on_reply = [&](const channel_answer& a) -> std::optional<int> {
    return report(env, r, a.reply);
  };
  how.offline = [&]() -> expected<int> {
    // Only a start makes a journal: a mistyped --data must not leave an
    // empty data directory behind, and "no run" would hide the typo.
    std::error_code unknown;  // unreadable: try_with_journal says why
    auto journal_file = std::filesystem::path{env.globals.data_dir} / "data.mdb";
    if (r.op != control_op::start && !std::filesystem::exists(journal_file, unknown)
        && !unknown)
      return fail("no journal in " + env.globals.data_dir + " (nothing was started there), so "
                  "there is no " + (r.op == control_op::decide ? "request " : "run ") + r.run_id
                  + ": check --data; nothing was done");
    return try_with_journal(env, [&](journal& store) {
      return report(env, r, apply_offline(store, r, env.tools.get()));
    });
  };
  return through_serve_or(env, r, how);
}

} // namespace endure::cli
