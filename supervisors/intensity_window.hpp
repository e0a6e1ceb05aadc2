// The restart-intensity window: a sliding window of restart timestamps.
//
// Pure value type, no clock of its own: callers pass `now` (the supervisor
// passes its actor clock, so tests on a simulated clock see simulated time).
// Owned by one supervisor (or one dynamic child); not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace endure {

class intensity_window {
public:
  using time_point = std::chrono::steady_clock::time_point;

  // -- constructors ----------------------------------------------------------

  /// At most `max_restarts` restarts are allowed inside any `period`.
  intensity_window(int max_restarts, std::chrono::milliseconds period);

  // -- modifiers -------------------------------------------------------------

  /// Records a restart at `now` and returns true when the restarts inside
  /// (now - period, now] now number more than max_restarts (OTP's rule:
  /// intensity 0 means the first restart already exceeds it). Timestamps
  /// older than the period are dropped, so memory stays bounded.
  bool record(time_point now);

  // -- properties ------------------------------------------------------------

  /// Restarts recorded inside (now - period, now].
  std::size_t count(time_point now) const;

  int max_restarts() const noexcept { return max_restarts_; }
  std::chrono::milliseconds period() const noexcept { return period_; }

private:
  bool inside(time_point stamp, time_point now) const;

  int max_restarts_;
  std::chrono::milliseconds period_;
  std::deque<time_point> stamps_;
};

} // namespace endure
