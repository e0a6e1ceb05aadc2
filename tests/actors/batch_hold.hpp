// Holds one journal batch on the writer thread until the test releases it,
// so a test chooses which commit is in flight when something else happens
// (a run actor crash, passivation, shutdown, a copy of the data directory
// standing in for SIGKILL). Installed through journal_options::inject_fault.
// While a batch is held the writer commits nothing else. A batch is held at
// most `hold_limit`, so a failing test ends instead of hanging the writer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "endure/persistence/journal.hpp"

namespace endure::test {

class batch_hold {
public:
  using matcher = std::function<bool(const write_batch&)>;

  /// Holds the (skip+1)-th batch for which `match` is true; released, that
  /// batch is committed if `outcome` is success, else fails with it.
  void arm(matcher match, int skip = 0, expected<void> outcome = {}) {
    std::lock_guard lock{mu_};
    match_ = std::move(match);
    skip_ = skip;
    outcome_ = std::move(outcome);
    armed_ = true;
    holding_ = released_ = false;
  }

  /// The inject_fault hook (writer thread).
  expected<void> on_batch(const write_batch& b) {
    std::unique_lock lock{mu_};
    if (!armed_ || !match_(b) || skip_-- > 0)
      return {};
    armed_ = false;
    holding_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, hold_limit, [&] { return released_; });
    holding_ = false;
    return outcome_;
  }

  /// Waits until the matching batch is held in the writer.
  bool await_holding(std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    std::unique_lock lock{mu_};
    return changed_.wait_for(lock, limit, [&] { return holding_; });
  }

  void release() {
    std::lock_guard lock{mu_};
    released_ = true;
    changed_.notify_all();
  }

  std::chrono::milliseconds hold_limit{std::chrono::seconds{10}};

private:
  std::mutex mu_;
  std::condition_variable changed_;
  matcher match_;
  int skip_ = 0;
  expected<void> outcome_;
  bool armed_ = false, holding_ = false, released_ = false;
};

/// Batches that append a record to `run`'s journal.
inline batch_hold::matcher appends_to(std::string run) {
  return [run = std::move(run)](const write_batch& b) {
    for (auto& op : b.ops())
      if (op.kind == write_batch::op_kind::append && op.run_id == run)
        return true;
    return false;
  };
}

/// Batches that put a timer row of `run`.
inline batch_hold::matcher puts_timer_of(std::string run) {
  return [run = std::move(run)](const write_batch& b) {
    for (auto& op : b.ops())
      if (op.kind == write_batch::op_kind::put_timer && op.run_id == run)
        return true;
    return false;
  };
}

} // namespace endure::test
