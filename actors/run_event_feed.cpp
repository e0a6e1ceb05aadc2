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

void run_event_feed::subscription::want_steps(step_interest steps) {
  if (feed_)
    feed_->set_steps(id_, std::move(steps));
}

run_event_feed::subscription run_event_feed::subscribe(callback cb, step_interest steps) {
  std::unique_lock lock(mutex_);
  auto id = next_id_++;
  subscribers_.push_back({id, std::move(cb), std::move(steps)});
  recount();
  return subscription{this, id};
}

void run_event_feed::unsubscribe(std::uint64_t id) noexcept {
  std::unique_lock lock(mutex_);
  std::erase_if(subscribers_, [id](const subscriber& s) { return s.id == id; });
  recount();
}

void run_event_feed::set_steps(std::uint64_t id, step_interest steps) {
  std::unique_lock lock(mutex_);
  for (auto& s : subscribers_)
    if (s.id == id)
      std::swap(s.steps, steps);  // the old set is freed after the lock, not under it
  recount();
}

void run_event_feed::recount() noexcept {
  std::size_t all = 0, followed = 0;
  for (auto& s : subscribers_) {
    all += s.steps.all;
    followed += s.steps.runs.size();
  }
  listeners_.store(subscribers_.size(), std::memory_order_relaxed);
  all_steps_.store(all, std::memory_order_relaxed);
  followed_.store(followed, std::memory_order_relaxed);
  // Release: a cache that sees the new generation sees the interests too
  // (it reads them under the lock anyway).
  generation_.fetch_add(1, std::memory_order_release);
}

bool run_event_feed::wants_steps_of(std::string_view run, step_interest_cache& cache) const {
  if (all_steps_.load(std::memory_order_relaxed) != 0)
    return true;
  if (generation_.load(std::memory_order_acquire) == cache.generation)
    return cache.wanted;
  std::shared_lock lock(mutex_);
  cache.generation = generation_.load(std::memory_order_relaxed);  // stable under the lock
  cache.wanted = std::any_of(subscribers_.begin(), subscribers_.end(),
                             [run](const subscriber& s) { return s.steps.wants(run); });
  return cache.wanted;
}

void run_event_feed::publish(const feed_event& e) const {
  auto* step = std::get_if<step_changed>(&e);
  std::shared_lock lock(mutex_);
  for (auto& s : subscribers_)
    if (!step || s.steps.wants(step->run))
      s.cb(e);
}

} // namespace endure
