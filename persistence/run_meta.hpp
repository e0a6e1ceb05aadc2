// Run metadata: one row of the `runs` database (run id -> meta and status).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"

namespace endure {

/// Lifecycle of a run. Terminal: completed, failed, cancelled.
enum class run_status : std::uint8_t {
  running = 1,  ///< executing or ready to execute a step
  waiting,      ///< parked on a timer, a signal or a human
  completed,    ///< returned a result
  failed,       ///< ended with an error (retries exhausted, fatal error)
  cancelled,    ///< cancelled from outside; compensations ran
  quarantined,  ///< stopped for a person to look at (crash loop, damage,
                ///< non-determinism); `release` lets it try again
};

std::string_view to_string(run_status s) noexcept;
/// Parses "running", "waiting", ...; nullopt for anything else.
std::optional<run_status> parse_run_status(std::string_view text) noexcept;
/// True for completed, failed and cancelled.
bool is_terminal(run_status s) noexcept;

struct run_meta {
  std::string id;
  /// Name of the registered workflow the run executes.
  std::string workflow;
  run_status status = run_status::running;
  /// Milliseconds since the Unix epoch.
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  /// Why the run is in its status (error text, quarantine reason); may be
  /// empty.
  std::string detail;

  friend bool operator==(const run_meta&, const run_meta&) = default;
};

/// Checks a run id: 1..200 bytes, no control character (NUL is the key separator).
expected<void> validate_run_id(std::string_view id);

/// Checks that a start of `asked` under `run_id` may attach to the run of
/// that id, which executes `existing`: a start is idempotent only for the
/// same workflow (its input is not compared: the run keeps the one it
/// started with). Error: invalid_state naming both workflows.
expected<void> check_same_workflow(std::string_view run_id, std::string_view existing,
                                   std::string_view asked);

} // namespace endure
