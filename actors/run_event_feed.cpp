// run_event_feed: a list of callbacks under a shared lock (publishers from
// many threads share it; subscribing and unsubscribing take it alone, which
// is also what lets reset() promise its callback no longer runs).
#include "endure/actors/run_event_feed.hpp"

#include <algorithm>
#include <mutex>

namespace endure {

std::string_view to_string(step_outcome o) noexcept {
  switch (o) {
    case step_outcome::completed: return "completed";
    case step_outcome::failed: return "failed";
    case step_outcome::retrying: return "retrying";
  }
  return "unknown";
}

run_event_feed::subscription&
run_event_feed::subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    reset();
    feed_ = std::exchange(other.feed_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

void run_event_feed::subscription::reset() noexcept {
  if (auto* feed = std::exchange(feed_, nullptr))
    feed->unsubscribe(id_);
}

run_event_feed::subscription run_event_feed::subscribe(callback cb) {
  std::unique_lock lock(mutex_);
  auto id = next_id_++;
  subscribers_.emplace_back(id, std::move(cb));
  listeners_.store(subscribers_.size(), std::memory_order_relaxed);
  return subscription{this, id};
}

void run_event_feed::unsubscribe(std::uint64_t id) noexcept {
  std::unique_lock lock(mutex_);
  std::erase_if(subscribers_, [id](const auto& s) { return s.first == id; });
  listeners_.store(subscribers_.size(), std::memory_order_relaxed);
}

void run_event_feed::publish(const feed_event& e) const {
  std::shared_lock lock(mutex_);
  for (auto& [id, cb] : subscribers_)
    cb(e);
}

} // namespace endure
