// Test support for the supervisor tests: a shared event log, worker actors
// that report their starts and stops, and a fixture on CAF's deterministic
// test_coordinator (time moves only when a test advances it).
//
// The log is written from actor threads (real scheduler) or the test thread
// (test_coordinator), hence the mutex. Everything else is test-thread only.
#pragma once

#include "endure/supervisors/atoms.hpp"
#include "endure/supervisors/child_spec.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sup_test {

using crash_atom = caf::atom_constant<caf::atom("crash")>;
using finish_atom = caf::atom_constant<caf::atom("finish")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
/// (started_atom, id) goes to the log's observer on every start.
using started_atom = caf::atom_constant<caf::atom("started")>;

/// "start:a", "stop:a" ... in the order they happened, plus the live handle
/// of each child id.
class event_log {
public:
  void started(const std::string& id, caf::actor handle);
  void stopped(const std::string& id);
  std::vector<std::string> events() const;
  /// Events of one kind ("start" or "stop"), ids only.
  std::vector<std::string> ids(const std::string& kind) const;
  std::size_t count(const std::string& event) const;
  caf::actor current(const std::string& id) const;
  void clear();
  /// Also tell `observer` about every start (for tests on real threads,
  /// which await these messages instead of polling the log).
  void notify(caf::actor observer);

private:
  mutable std::mutex mtx_;
  std::vector<std::string> events_;
  std::map<std::string, caf::actor> current_;
  caf::actor observer_;
};

using log_ptr = std::shared_ptr<event_log>;

enum class worker_kind {
  /// Obeys exits; crash_atom throws, finish_atom exits normally.
  normal,
  /// Traps and ignores exit_reason::user_shutdown (only kill ends it).
  stubborn,
  /// Throws in its first message, sent to itself at start.
  crash_looper,
};

/// A child spec whose child logs start/stop under `id`.
endure::child_spec worker_spec(const std::string& id, log_ptr log,
                               endure::restart_type restart
                               = endure::restart_type::permanent,
                               worker_kind kind = worker_kind::normal);

/// Spawns such a worker from a supervisor (used by dynamic templates too).
caf::actor spawn_worker(caf::local_actor& sup, const std::string& id,
                        log_ptr log, worker_kind kind);

/// A deterministic actor system: caf::scheduler::test_coordinator.
struct coordinator_fixture {
  coordinator_fixture();
  ~coordinator_fixture();

  /// Runs every job until all mailboxes are empty; returns how many ran.
  std::size_t run();
  /// Moves simulated time forward, fires the due timers, then run()s.
  void advance(std::chrono::milliseconds d);
  /// Kills `a` at the end of the test if it is still alive.
  void own(const caf::actor& a);
  /// The next down message in `self`'s mailbox (it must already be there).
  caf::error next_down_reason();

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;
  std::vector<caf::actor> owned;
};

} // namespace sup_test
