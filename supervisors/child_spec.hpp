// A child spec: how a supervisor starts, restarts and stops one child.
//
// Plain data, like OTP's child_spec map. It is validated once (see
// validate.hpp) before any child starts; after that the supervisor owns its
// copy and calls `start` on its own thread, each time the child (re)starts.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace endure {

/// When a child that exited is started again.
enum class restart_type : std::uint8_t {
  /// Always restarted, whatever its exit reason.
  permanent,
  /// Restarted only after an abnormal exit; a normal exit or a shutdown
  /// (exit_reason::normal, exit_reason::user_shutdown) leaves it stopped.
  transient,
  /// Never restarted; removed from the supervisor once it exits.
  temporary,
};

/// What the child is; a supervisor child gets an infinite shutdown by default
/// because it needs the time to stop its own children in order.
enum class child_type : std::uint8_t { worker, supervisor };

/// How a supervisor stops a child.
struct shutdown_policy {
  enum class mode : std::uint8_t {
    /// Send exit_reason::kill at once; the child cannot trap it.
    brutal_kill,
    /// Send exit_reason::user_shutdown, then kill after `timeout`.
    timeout,
    /// Send exit_reason::user_shutdown and wait for as long as it takes.
    infinity,
  };

  /// Default: timeout.
  mode how = mode::timeout;
  /// Used with mode::timeout only; must be positive. Default: 5 s.
  std::chrono::milliseconds timeout{5000};

  static shutdown_policy brutal_kill() { return {mode::brutal_kill, {}}; }
  static shutdown_policy after(std::chrono::milliseconds t) {
    return {mode::timeout, t};
  }
  static shutdown_policy infinity() { return {mode::infinity, {}}; }
};

/// Starts (or restarts) the child and returns its handle. Runs on the
/// supervisor's thread, given the supervisor actor (use `sup.spawn(...)` or
/// `sup.system().spawn(...)`). Return an invalid handle or throw to report
/// a failed start; the supervisor counts it like a crash.
using start_function = std::function<caf::actor(caf::local_actor& sup)>;

/// One child of a static supervisor.
struct child_spec {
  /// Unique among the supervisor's children, non-empty; names the child in
  /// every report.
  std::string id;
  /// Required.
  start_function start;
  /// Default: permanent.
  restart_type restart = restart_type::permanent;
  /// Default: 5 s timeout (use shutdown_policy::infinity() for supervisors).
  shutdown_policy shutdown;
  /// Default: worker.
  child_type type = child_type::worker;
};

} // namespace endure
