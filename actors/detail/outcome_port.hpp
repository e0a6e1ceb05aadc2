// Where a step attempt running off the run actor's thread (a body on an
// activity thread, an LLM or HTTP call on the net layer's thread) reports
// how it ended: the run actor, for as long as it lives.
//
// The run actor closes its port when it stops. An attempt that outlives it
// (abandoned at a shutdown's deadline, a timed-out attempt finishing late
// after the actor passivated) then drops its report instead of sending to a
// stopped actor, and holds no handle into the actor system, which may be
// gone by then. Any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>

#include "endure/persistence/failure.hpp"

namespace endure::detail {

class outcome_port {
public:
  explicit outcome_port(caf::actor run) : run_(std::move(run)) {}

  /// Sends (step_done ...) or (step_fail ...) to the run actor if it is
  /// still open; otherwise drops the report.
  void report(std::uint64_t step, std::uint32_t attempt, std::optional<std::string> result,
              const failure& f, std::int64_t duration_us);

  /// Stops delivery and lets go of the actor handle. Idempotent.
  void close();

private:
  std::mutex mutex_;
  caf::actor run_;
};

} // namespace endure::detail
