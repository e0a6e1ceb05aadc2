// The restart-intensity window.
#include "endure/supervisors/intensity_window.hpp"

#include <algorithm>

namespace endure {

intensity_window::intensity_window(int max_restarts,
                                   std::chrono::milliseconds period)
  : max_restarts_(max_restarts), period_(period) {
}

bool intensity_window::inside(time_point stamp, time_point now) const {
  return now - stamp < period_;
}

bool intensity_window::record(time_point now) {
  while (!stamps_.empty() && !inside(stamps_.front(), now))
    stamps_.pop_front();
  stamps_.push_back(now);
  return stamps_.size() > static_cast<std::size_t>(std::max(max_restarts_, 0));
}

std::size_t intensity_window::count(time_point now) const {
  return static_cast<std::size_t>(
    std::count_if(stamps_.begin(), stamps_.end(),
                  [&](time_point t) { return inside(t, now); }));
}

} // namespace endure
