// start, signal, cancel, release (and run's wait) the same way whether a
// `endure serve` holds the data directory or nothing does: the request goes
// through serve's control channel to its live runtime (apply_live, on
// serve's side), or straight into the journal (apply_offline); both give a
// control_reply with the same codes, and report() prints it the same way.
// through_serve_or() is the client's loop over the races: serve starting
// or stopping between the look and the act, a socket file left by a killed
// serve, a serve that is busy. Internal to cli/.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include "endure/cli/command.hpp"
#include "endure/cli/control_client.hpp"
#include "endure/cli/control_protocol.hpp"
#include "endure/cli/control_server.hpp"

namespace endure::cli {

/// serve's handler: `r` applied to its runtime. A wait polls `stopping`
/// and ends with shut_down when serve stops.
control_reply apply_live(runtime& rt, const control_request& r,
                         const std::atomic<bool>& stopping);

/// The control channel of a process that holds the data directory with a
/// runtime (`serve`, `run`, the demo's worker): requests on DIR/control.sock
/// reach `rt` through apply_live. With `only_run` set (`run`, which executes
/// one run and exits), starting other runs or waiting for them is refused
/// (they would be abandoned when it exits), saying to use serve; signals,
/// cancels and decisions are taken, so a person can approve what the run
/// waits for from another terminal. Every reply carries `policy_hash`,
/// the hash of the policy `rt` gates with (empty for none). Stop it
/// (stop_requests) before the runtime closes.
expected<std::unique_ptr<control_server>> open_control_channel(runtime& rt,
                                                               const std::string& data_dir,
                                                               std::string policy_hash,
                                                               std::string only_run = {});

/// The hash of `policy` (gateway::policy::hash), empty for none.
std::string policy_hash_of(const gateway::policy* policy);

/// `r` written into the journal (actors/offline_control.hpp; a decision:
/// human_decision.hpp, its edits checked against `tools`); no wait.
control_reply apply_offline(journal& store, const control_request& r,
                            const agent::tool_registry* tools = nullptr);

/// Prints the outcome of start, signal, cancel, release or decide as a user reads
/// it (the same lines from serve and from the journal); returns the exit
/// code.
int report(const command_env& env, const control_request& r, const control_reply& reply);

/// How long a client keeps trying while the data directory is held and
/// nobody answers on its socket (a serve starting up). Default: 3 s.
inline constexpr std::chrono::milliseconds held_without_channel_limit{3'000};
/// ... after serve said it is stopping (it finishes its runs' steps in
/// flight first). Default: 60 s.
inline constexpr std::chrono::milliseconds stopping_limit{60'000};
/// ... while serve says it is busy. Default: 10 s.
inline constexpr std::chrono::milliseconds busy_limit{10'000};

struct serve_or_offline {
  /// Called with serve's reply; nullopt to go round again (serve went away
  /// during a longer exchange).
  std::function<std::optional<int>(const channel_answer&)> on_reply;
  /// Does the work without serve; returns an error when it cannot now: the
  /// data directory is held by another process (data_dir_locked), or the
  /// work is for a serve that may come back (any other code: its message
  /// says why). The loop tries again until its limit, then prints it.
  std::function<expected<int>()> offline;
  /// The request may be sent again after a lost answer (start: idempotent).
  bool idempotent = false;
  /// How long to wait for serve's reply. Default: 60 s.
  std::optional<std::chrono::milliseconds> reply_timeout = std::chrono::seconds(60);
};

/// Sends `r` to a running serve, or, when none listens, runs `how.offline`;
/// loops (bounded by the limits above) while the directory changes hands.
/// Returns the exit code.
int through_serve_or(const command_env& env, const control_request& r,
                     const serve_or_offline& how);

/// The whole of `endure start|signal|cancel|release|approve|reject|answer`: through_serve_or with
/// report() for serve's reply and apply_offline on the journal.
int control(const command_env& env, const control_request& r);

} // namespace endure::cli
