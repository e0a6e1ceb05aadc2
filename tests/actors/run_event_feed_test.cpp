// The runtime's live event feed (actors/run_event_feed.hpp): nothing is
// built while nobody listens, a subscription ends for good when reset,
// and a real runtime publishes what a watcher relies on: a run's status
// changes (running, waiting, completed, failed, cancelled, quarantined by
// the run supervisor or by the run itself, running again after a release)
// and its steps' outcomes (completed, retrying, failed), each run's events
// in its order.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/actors/run_event_feed.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// Everything a subscription receives, for the test thread to wait on.
class collector {
public:
  explicit collector(run_event_feed& feed)
    : sub_(feed.subscribe([this](const feed_event& e) {
        std::lock_guard lock(mutex_);
        events_.push_back(e);
        arrived_.notify_all();
      })) {}

  /// The events of run `run`, once one satisfies `last` (at most 10 s;
  /// fails the test otherwise).
  template <class Pred>
  std::vector<feed_event> of_run_until(const std::string& run, Pred last) {
    std::unique_lock lock(mutex_);
    std::vector<feed_event> out;
    bool done = arrived_.wait_for(lock, 10s, [&] {
      out.clear();
      for (auto& e : events_)
        if (run_of(e) == run) {
          out.push_back(e);
          if (last(e))
            return true;
        }
      return false;
    });
    INFO("events of " << run << ": " << describe(out));
    REQUIRE(done);
    return out;
  }

  static std::string run_of(const feed_event& e) {
    return std::visit([](auto& x) { return x.run; }, e);
  }

  static std::string describe(const std::vector<feed_event>& events) {
    std::string out;
    for (auto& e : events)
      out += label(e) + "; ";
    return out;
  }

  /// "run STATUS" or "step N NAME OUTCOME #ATTEMPT" or "request KIND".
  static std::string label(const feed_event& e) {
    if (auto* r = std::get_if<run_changed>(&e))
      return "run " + std::string(to_string(r->status));
    if (auto* s = std::get_if<step_changed>(&e))
      return "step " + std::to_string(s->step) + " " + s->name + " "
             + std::string(to_string(s->outcome)) + " #" + std::to_string(s->attempt);
    return "request " + std::get<request_changed>(e).kind;
  }

private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<feed_event> events_;
  run_event_feed::subscription sub_;  // last: ends before the members it fills
};

bool is_run(const feed_event& e, run_status s) {
  auto* r = std::get_if<run_changed>(&e);
  return r && r->status == s;
}

std::vector<std::string> labels(const std::vector<feed_event>& events) {
  std::vector<std::string> out;
  for (auto& e : events)
    out.push_back(collector::label(e));
  return out;
}

std::atomic<int> flaky_calls{0};
std::atomic<bool> bug_fixed{false};

task<int> flaky_once(context& ctx, int) {
  retry_policy quick;
  quick.max_attempts = 3;
  quick.initial_interval = 1ms;
  quick.max_interval = 1ms;
  auto body = [] {
    if (++flaky_calls == 1)
      throw retryable_error("connection reset");
    return 7;
  };
  co_return co_await ctx.step("fetch", body).retry(quick);
}

task<int> doomed(context& ctx, int) {
  co_return co_await ctx.step("charge", []() -> int { throw fatal_error("card declined"); });
}

task<int> buggy(context& ctx, int) {
  co_await ctx.step("load", [] { return 1; });
  if (!bug_fixed)
    throw std::out_of_range("index 7 past the end of the plan");  // a bug: the actor crashes
  co_return 1;
}

task<std::string> awaits_go(context& ctx, int) {
  auto got = co_await ctx.wait_signal<std::string>("go", std::chrono::hours(1));
  co_return got.value_or("");
}

void workflows(workflow_registry& r) {
  r.add("flaky_once", &flaky_once);
  r.add("doomed", &doomed);
  r.add("buggy", &buggy);
  r.add("awaits_go", &awaits_go);
}

void fast_restarts(runtime_options& o) {
  o.run_restarts.intensity = 1;
  o.run_restarts.period = 60s;
  o.run_restarts.backoff.initial = 5ms;
  o.run_restarts.backoff.max = 10ms;
}

} // namespace

SCENARIO("a feed nobody listens to builds nothing, and a reset subscription hears nothing more",
         "[feed]") {
  run_event_feed feed;
  int built = 0;
  auto make = [&] {
    ++built;
    return run_changed{"r", "w", run_status::running, ""};
  };
  publish_if(&feed, make);
  publish_if(static_cast<run_event_feed*>(nullptr), make);
  CHECK(built == 0);
  CHECK_FALSE(feed.listening());

  int heard_a = 0, heard_b = 0;
  auto a = feed.subscribe([&](const feed_event&) { ++heard_a; });
  {
    auto b = feed.subscribe([&](const feed_event&) { ++heard_b; });
    CHECK(feed.listening());
    publish_if(&feed, make);
    CHECK(built == 1);
  }
  publish_if(&feed, make);
  CHECK(heard_a == 2);
  CHECK(heard_b == 1);  // b's subscription ended with its scope

  run_event_feed::subscription moved = std::move(a);
  CHECK_FALSE(a);
  publish_if(&feed, make);
  CHECK(heard_a == 3);
  moved.reset();
  CHECK_FALSE(feed.listening());
  publish_if(&feed, make);
  CHECK(heard_a == 3);
  CHECK(built == 3);
}

SCENARIO("step events are built only while a subscription wants them", "[feed]") {
  run_event_feed feed;
  step_interest_cache cache;  // the run's own
  int built = 0;
  auto step = [&] {
    ++built;
    return step_changed{"r", 0, "s", 1, step_outcome::completed};
  };
  auto publish_step = [&] { publish_step_if(&feed, "r", cache, step); };
  int heard_steps = 0, heard_runs = 0;
  auto sub = feed.subscribe(
    [&](const feed_event& e) { ++(std::holds_alternative<step_changed>(e) ? heard_steps : heard_runs); },
    /*steps*/ false);
  publish_step();
  publish_if(&feed, [] { return run_changed{"r", "w", run_status::running, ""}; });
  CHECK(built == 0);  // a run that steps pays one relaxed load, not a string copy
  CHECK(heard_runs == 1);
  CHECK_FALSE(feed.listening(/*step*/ true));

  sub.want_steps(true);
  publish_step();
  CHECK(built == 1);
  CHECK(heard_steps == 1);

  WHEN("another subscription that wants steps hears them, this one no longer does") {
    auto other = feed.subscribe([](const feed_event&) {});
    sub.want_steps(false);
    publish_step();
    CHECK(built == 2);
    CHECK(heard_steps == 1);
  }
}

SCENARIO("a subscription following some runs gets their step events and no other run builds any",
         "[feed]") {
  run_event_feed feed;
  step_interest_cache followed_cache, other_cache;
  int built_followed = 0, built_other = 0;
  auto publish = [&](const char* run, step_interest_cache& cache, int& built) {
    publish_step_if(&feed, run, cache, [&] {
      ++built;
      return step_changed{run, 0, "s", 1, step_outcome::completed};
    });
  };
  std::vector<std::string> heard;
  auto sub = feed.subscribe(
    [&](const feed_event& e) {
      if (auto* s = std::get_if<step_changed>(&e))
        heard.push_back(s->run);
    },
    step_interest{false, {"followed"}});
  CHECK(feed.listening(/*step*/ true));
  for (int i = 0; i < 3; ++i) {
    publish("followed", followed_cache, built_followed);
    publish("other", other_cache, built_other);
  }
  CHECK(built_followed == 3);
  CHECK(built_other == 0);
  CHECK(heard == std::vector<std::string>(3, "followed"));

  WHEN("a second subscription wants every run's steps, each gets what it asked for") {
    std::vector<std::string> all;
    auto everything = feed.subscribe(
      [&](const feed_event& e) {
        if (auto* s = std::get_if<step_changed>(&e))
          all.push_back(s->run);
      },
      step_interest{true, {}});
    publish("followed", followed_cache, built_followed);
    publish("other", other_cache, built_other);
    CHECK(all == std::vector<std::string>{"followed", "other"});
    CHECK(heard.size() == 4);  // not "other"
    everything.reset();
    publish("other", other_cache, built_other);
    CHECK(built_other == 1);  // only while `everything` listened
  }
  WHEN("another subscription follows the other run and this one ends, each cache follows") {
    auto second = feed.subscribe([](const feed_event&) {}, step_interest{false, {"other"}});
    publish("other", other_cache, built_other);
    CHECK(built_other == 1);
    sub.reset();  // "other" is still followed: only the caches can tell "followed" apart
    REQUIRE(feed.listening(/*step*/ true));
    publish("followed", followed_cache, built_followed);
    CHECK(built_followed == 3);
    publish("other", other_cache, built_other);
    CHECK(built_other == 2);
  }
  WHEN("the interest moves to the other run, the caches follow it") {
    sub.want_steps(step_interest{false, {"other"}});
    publish("followed", followed_cache, built_followed);
    publish("other", other_cache, built_other);
    CHECK(built_followed == 3);
    CHECK(built_other == 1);
    CHECK(heard.back() == "other");
  }
}

SCENARIO("a runtime publishes its runs' statuses and steps' outcomes in each run's order",
         "[feed]") {
  flaky_calls = 0;
  bug_fixed = false;
  runtime_fixture f{workflows, fast_restarts};
  collector seen(f.rt().events());

  WHEN("a step fails once, retries and the run completes") {
    REQUIRE(f.rt().start("flaky_once", "flaky", 0));
    auto events = seen.of_run_until("flaky", [](auto& e) {
      return is_run(e, run_status::completed);
    });
    // Between the retry's backoff and its attempt the run may be stored
    // waiting and running again: those statuses are allowed in between.
    std::vector<std::string> got;
    for (auto& l : labels(events))
      if (l != "run waiting" && (l != "run running" || got.empty()))
        got.push_back(l);
    CHECK(got == std::vector<std::string>{"run running", "step 0 fetch retrying #1",
                                          "step 0 fetch completed #2", "run completed"});
    auto& first = std::get<run_changed>(events.front());
    CHECK(first.workflow == "flaky_once");
    CHECK(first.detail.empty());
  }
  WHEN("a step fails for good") {
    REQUIRE(f.rt().start("doomed", "doomed", 0));
    auto events = seen.of_run_until("doomed", [](auto& e) {
      return is_run(e, run_status::failed);
    });
    CHECK(labels(events) == std::vector<std::string>{"run running", "step 0 charge failed #1",
                                                     "run failed"});
    CHECK_THAT(std::get<run_changed>(events.back()).detail, Catch::Contains("card declined"));
  }
  WHEN("a waiting run is cancelled") {
    REQUIRE(f.rt().start("awaits_go", "waits", 0));
    seen.of_run_until("waits", [](auto& e) { return is_run(e, run_status::waiting); });
    REQUIRE(f.rt().cancel("waits", "nobody will say go"));
    auto events = seen.of_run_until("waits", [](auto& e) {
      return is_run(e, run_status::cancelled);
    });
    CHECK_THAT(std::get<run_changed>(events.back()).detail,
               Catch::Contains("nobody will say go"));
    // The cancel marks the waiting run running first (journaled with it).
    CHECK(labels(events) == std::vector<std::string>{"run running", "run waiting", "run running",
                                                     "run cancelled"});
  }
  WHEN("the run supervisor quarantines a crashing run, and a release lets it finish") {
    REQUIRE(f.rt().start("buggy", "bug", 0));
    auto events = seen.of_run_until("bug", [](auto& e) {
      return is_run(e, run_status::quarantined);
    });
    auto& q = std::get<run_changed>(events.back());
    CHECK(q.workflow == "buggy");
    CHECK_THAT(q.detail, Catch::Contains("crashed 2 times") && Catch::Contains("index 7"));
    bug_fixed = true;
    REQUIRE(f.rt().release("bug", "fixed"));
    events = seen.of_run_until("bug", [](auto& e) {
      return is_run(e, run_status::completed);
    });
    auto l = labels(events);
    auto released = std::find(l.begin(), l.end(), "run quarantined");
    REQUIRE(released != l.end());
    CHECK(std::vector<std::string>(released + 1, l.end())
          == std::vector<std::string>{"run running", "run completed"});
  }
}

SCENARIO("a run that quarantines itself publishes why", "[feed]") {
  // Not resumed at open, so the subscription below exists before it runs.
  runtime_fixture f{workflows, [](runtime_options& o) { o.resume_on_open = false; }};
  f.close();
  {
    auto j = f.open_journal();  // a run of a workflow this process does not register
    REQUIRE(start_offline(*j, "ghost", "retired_workflow", to_bytes(0)));
  }
  f.open();
  collector seen(f.rt().events());
  (void) f.rt().signal("ghost", "wake", 1);  // spawns its actor, which finds no workflow
  auto events = seen.of_run_until("ghost", [](auto& e) {
      return is_run(e, run_status::quarantined);
    });
  auto& q = std::get<run_changed>(events.back());
  CHECK(q.workflow == "retired_workflow");
  CHECK_THAT(q.detail, Catch::Contains("has not registered"));
}
