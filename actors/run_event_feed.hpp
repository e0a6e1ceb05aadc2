// The runtime's live event feed (issue 16): what changes in runs and in the
// human gateway's requests, as it happens, for whoever watches (the
// console's Server-Sent Events). One feed per runtime (runtime::events()).
//
// Who publishes, and when (on the publisher's own thread):
// * run_changed: a run actor when it writes a new status to the journal
//   (running, waiting) at the moment the write is queued; the final
//   statuses (completed, failed, cancelled, quarantined) once their write
//   is durable, so a client that refetches the run sees them. The run
//   manager publishes the statuses it writes itself (a quarantine after
//   repeated crashes, running after a release) once they are durable.
// * step_changed: a run actor when the record of a step's outcome
//   (completed, failed for good, failed and retrying) is queued for the
//   journal, in the order the run makes them; a run's events are in its
//   own order, runs interleave. A commit that then fails stops the run
//   actor and its restart replays the journal without publishing again,
//   so an event may (rarely) describe a record that never became durable:
//   events are hints to refetch, the journal is the truth.
// * request_changed: the human gateway, for each lifecycle event it sends
//   its CAF subscribers (actors/atoms.hpp, subscribe), after the request's
//   row is durable. Every incarnation of the gateway publishes here, so a
//   restart loses no subscription.
//
// Cost: publish_if() is one relaxed atomic load while nobody listens.
// Step events, most of the events, are wanted per run (step_interest: all
// runs, or some): publish_step_if() for a run nobody follows is two relaxed
// loads and one acquire load against the run's cache of its answer, so a
// console page following one run costs the others' steps nothing. While
// someone listens, each event is built once and every callback that wants
// it is called on the publisher's thread (a run actor's, the manager's,
// the gateway's) under a shared lock: callbacks must be quick and must
// never block (queue the event, return). No CAF in here.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "endure/persistence/run_meta.hpp"

namespace endure {

/// A run's status changed.
struct run_changed {
  std::string run;
  std::string workflow;
  run_status status = run_status::running;
  /// Why, for failed, cancelled and quarantined; else empty.
  std::string detail;
};

enum class step_outcome : std::uint8_t {
  completed,  ///< the step's result is journaled
  failed,     ///< failed for good (fatal, or its retries are exhausted)
  retrying,   ///< an attempt failed; the next one waits out its backoff
};

std::string_view to_string(step_outcome o) noexcept;

/// Progress of a run: an outcome of one of its journaled steps.
struct step_changed {
  std::string run;
  std::uint64_t step = 0;  ///< the step's sequence number in the run
  std::string name;
  /// The attempt it concerns; 0 for steps that run no body (timers,
  /// signals, journaled values).
  std::uint32_t attempt = 0;
  step_outcome outcome = step_outcome::completed;
};

/// A lifecycle event of a human gateway request.
struct request_changed {
  /// waiting, counted, decided, expired, escalated, reminder.
  std::string kind;
  std::string request;
  std::string run;
  /// The gateway's detail, JSON object text (gateway/request_event.hpp).
  std::string detail;
};

using feed_event = std::variant<run_changed, step_changed, request_changed>;

/// Which step events a subscription gets.
struct step_interest {
  /// Every run's.
  bool all = false;
  /// Else these runs' (none if empty).
  std::set<std::string, std::less<>> runs;

  bool wants(std::string_view run) const { return all || runs.contains(run); }
};

/// A publisher's memo of whether its run's step events are wanted, valid
/// until the feed's interests change (publish_step_if). One per run.
struct step_interest_cache {
  std::uint64_t generation = ~std::uint64_t{0};
  bool wanted = false;
};

class run_event_feed {
public:
  /// Called for every event published while subscribed; see the top.
  using callback = std::function<void(const feed_event&)>;

  /// A subscription; unsubscribes when destroyed or reset. Once reset()
  /// (or the destructor) returned, its callback is not running and never
  /// runs again. Never reset it from inside its own callback (deadlock).
  /// The feed must outlive it.
  class subscription {
  public:
    subscription() = default;
    subscription(run_event_feed* feed, std::uint64_t id) noexcept : feed_(feed), id_(id) {}
    subscription(subscription&& other) noexcept
      : feed_(std::exchange(other.feed_, nullptr)), id_(other.id_) {}
    subscription& operator=(subscription&& other) noexcept;
    ~subscription() { reset(); }
    void reset() noexcept;
    /// Which step events its callback gets (subscribe's `steps`). A run
    /// whose steps no subscription wants does not even build them: they
    /// are most of the events. Any thread; no-op once reset.
    void want_steps(step_interest steps);
    /// Every run's step events, or none.
    void want_steps(bool steps) { want_steps(step_interest{steps, {}}); }
    explicit operator bool() const noexcept { return feed_ != nullptr; }

  private:
    run_event_feed* feed_ = nullptr;
    std::uint64_t id_ = 0;
  };

  run_event_feed() = default;
  run_event_feed(const run_event_feed&) = delete;
  run_event_feed& operator=(const run_event_feed&) = delete;

  /// `cb` gets every event published from now on (step events only those
  /// it wants: `steps`, then subscription::want_steps), until the
  /// subscription ends. Any thread.
  [[nodiscard]] subscription subscribe(callback cb, step_interest steps);
  /// Every run's step events (`steps`), or none.
  [[nodiscard]] subscription subscribe(callback cb, bool steps = true) {
    return subscribe(std::move(cb), step_interest{steps, {}});
  }

  /// True while at least one subscription is open that wants some step
  /// events (`step`) or any events (relaxed: an event published just as a
  /// subscription opens or turns to steps may be missed by it).
  bool listening(bool step = false) const noexcept {
    if (!step)
      return listeners_.load(std::memory_order_relaxed) != 0;
    return all_steps_.load(std::memory_order_relaxed) != 0 ||
           followed_.load(std::memory_order_relaxed) != 0;
  }

  /// Whether some subscription wants `run`'s step events; `cache` (the
  /// run's own) spares the lock until the interests change.
  bool wants_steps_of(std::string_view run, step_interest_cache& cache) const;

  /// Hands `e` to every subscriber (on this thread). Any thread.
  void publish(const feed_event& e) const;

private:
  struct subscriber {
    std::uint64_t id;
    callback cb;
    step_interest steps;
  };

  void unsubscribe(std::uint64_t id) noexcept;
  void set_steps(std::uint64_t id, step_interest steps);
  /// The counts and a new generation from subscribers_ (under the lock).
  void recount() noexcept;

  mutable std::shared_mutex mutex_;
  std::vector<subscriber> subscribers_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::size_t> listeners_{0};
  std::atomic<std::size_t> all_steps_{0};  ///< subscriptions wanting every run's steps
  std::atomic<std::size_t> followed_{0};   ///< runs followed, summed over subscriptions
  /// Changes with every change of the interests: invalidates the caches.
  std::atomic<std::uint64_t> generation_{0};
};

/// Publishes `make()` on `feed` (may be null) if anybody listens; make()
/// is not called otherwise. What publishers of run and request events call.
template <class Make>
void publish_if(const run_event_feed* feed, Make&& make) {
  static_assert(!std::is_same_v<std::invoke_result_t<Make&>, step_changed>,
                "step events go through publish_step_if");
  if (feed && feed->listening())
    feed->publish(feed_event{make()});
}

/// Publishes the step event `make()` of `run` on `feed` (may be null) if a
/// subscription wants that run's steps; make() is not called otherwise.
template <class Make>
void publish_step_if(const run_event_feed* feed, std::string_view run,
                     step_interest_cache& cache, Make&& make) {
  if (feed && feed->listening(/*step*/ true) && feed->wants_steps_of(run, cache))
    feed->publish(feed_event{make()});
}

} // namespace endure
