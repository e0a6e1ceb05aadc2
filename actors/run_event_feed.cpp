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

void run_event_feed::subscription::want_steps(bool steps) noexcept {
  if (feed_)
    feed_->set_steps(id_, steps);
}

run_event_feed::subscription run_event_feed::subscribe(callback cb, bool steps) {
  std::unique_lock lock(mutex_);
  auto id = next_id_++;
  subscribers_.push_back({id, std::move(cb), steps});
  recount();
  return subscription{this, id};
}

void run_event_feed::unsubscribe(std::uint64_t id) noexcept {
  std::unique_lock lock(mutex_);
  std::erase_if(subscribers_, [id](const subscriber& s) { return s.id == id; });
  recount();
}

void run_event_feed::set_steps(std::uint64_t id, bool steps) noexcept {
  std::unique_lock lock(mutex_);
  for (auto& s : subscribers_)
    if (s.id == id)
      s.steps = steps;
  recount();
}

void run_event_feed::recount() noexcept {
  auto steps = std::count_if(subscribers_.begin(), subscribers_.end(),
                             [](const subscriber& s) { return s.steps; });
  listeners_.store(subscribers_.size(), std::memory_order_relaxed);
  step_listeners_.store(static_cast<std::size_t>(steps), std::memory_order_relaxed);
}

void run_event_feed::publish(const feed_event& e) const {
  bool step = std::holds_alternative<step_changed>(e);
  std::shared_lock lock(mutex_);
  for (auto& s : subscribers_)
    if (!step || s.steps)
      s.cb(e);
}

} // namespace endure
