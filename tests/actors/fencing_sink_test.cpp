// A fencing sink (persistence/fencing_sink.hpp) holds a step's body until
// the step's start is acknowledged: what keeps a node that its standby took
// over (replication mode takeover) from running a side effect of a run the
// standby now runs. With a plain sink the body runs as soon as its start is
// queued (the control that shows the test can tell).
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <mutex>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/events.hpp"
#include "endure/persistence/fencing_sink.hpp"
#include "endure/persistence/record.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// Whether `b` journals the start of a retry (a step's attempt 2 or later).
bool starts_a_retry(const write_batch& b) {
  static const record_types types = [] {
    record_types t;
    register_event_types(t);
    return t;
  }();
  for (auto& op : b.ops()) {
    if (op.kind != write_batch::op_kind::append)
      continue;
    auto rec = decode_record(op.bytes, {op.run_id, op.number}, types);
    auto e = rec ? decode_event(*rec, op.run_id, op.number) : expected<run_event>{rec.error()};
    if (auto* started = e ? std::get_if<step_started_event>(&*e) : nullptr)
      if (started->attempt >= 2)
        return true;
  }
  return false;
}

/// Acknowledges every batch at once except a retry's start, held until
/// the test releases it.
template <class Base>
struct holding_retries : Base {
  std::mutex m;
  std::vector<commit_sink::completion> held;
  std::atomic<bool> retry_acknowledged{false};
  void committed(std::vector<write_batch> b, std::vector<commit_sink::completion> d) override {
    for (std::size_t i = 0; i < b.size(); ++i) {
      if (!starts_a_retry(b[i])) {
        d[i](expected<void>{});
        continue;
      }
      std::lock_guard g{m};
      held.push_back(std::move(d[i]));
    }
  }
  bool holding() {
    std::lock_guard g{m};
    return !held.empty();
  }
  /// Fails what is held (its node stops before the standby applied it).
  void fail_held() {
    std::vector<commit_sink::completion> now;
    {
      std::lock_guard g{m};
      now.swap(held);
    }
    for (auto& done : now)
      done(make_error(errc::shut_down, "the node is stopping"));
  }
  void release() {
    std::vector<commit_sink::completion> now;
    {
      std::lock_guard g{m};
      now.swap(held);
    }
    retry_acknowledged = true;
    for (auto& done : now)
      done(expected<void>{});
  }
};

std::atomic<int> attempts{0};
/// Whether the retry's start was acknowledged when its body ran (-1: it
/// did not run).
std::atomic<int> acknowledged_at_retry{-1};
std::function<bool()> retry_acknowledged;

/// The first attempt fails (retryable): the second starts from the retry
/// timer, outside any commit of the run's own (the path that did not wait).
task<std::string> retried_effect(context& ctx, std::string in) {
  retry_policy quick;
  quick.initial_interval = 1ms;
  quick.jitter = false;
  co_return co_await ctx.step("the-effect", [](const std::string& s) {
    if (++attempts == 1)
      throw std::runtime_error("first attempt fails");
    acknowledged_at_retry = retry_acknowledged() ? 1 : 0;
    return s;
  }, in).retry(quick);
}

/// Runs retried_effect with `Sink` holding the retry's start for a moment
/// (a body that does not wait for it runs then). Answers whether the start
/// was acknowledged when the retry's body ran.
template <class Sink>
bool retry_ran_after_its_start_was_acknowledged() {
  auto sink = std::make_shared<Sink>();
  retry_acknowledged = [sink] { return sink->retry_acknowledged.load(); };
  attempts = 0;
  acknowledged_at_retry = -1;
  runtime_fixture f{[](workflow_registry& r) { r.add("retried_effect", &retried_effect); },
                    [sink](runtime_options& o) { o.journal.sink = sink; }};
  f.rt().start_async("retried_effect", "fenced-run", to_bytes(std::string{"x"}),
                     [](expected<run_status>) {});
  REQUIRE(eventually([&] { return sink->holding(); }, 10s, 1ms));
  // Bounded well past the retry's 1 ms backoff, for slow (sanitized) builds.
  (void)eventually([] { return attempts.load() == 2; }, 1s, 1ms);
  sink->release();
  CHECK(eventually([&] {
    auto meta = f.rt().store().run("fenced-run");
    return meta && meta->status == run_status::completed;
  }, 10s, 1ms));
  CHECK(attempts == 2);
  retry_acknowledged = {};
  REQUIRE(acknowledged_at_retry != -1);
  return acknowledged_at_retry == 1;
}

} // namespace

TEST_CASE("with a fencing sink a retry's body waits until its start is acknowledged") {
  CHECK(retry_ran_after_its_start_was_acknowledged<holding_retries<fencing_sink>>());
}

TEST_CASE("with a plain commit sink a retry's body runs before its start is acknowledged") {
  CHECK_FALSE(retry_ran_after_its_start_was_acknowledged<holding_retries<commit_sink>>());
}

TEST_CASE("a retry's start that its fencing sink fails as stopping is journaled as interrupted") {
  // Counted as a crash instead, five clean stops would quarantine the run.
  auto sink = std::make_shared<holding_retries<fencing_sink>>();
  retry_acknowledged = [sink] { return sink->retry_acknowledged.load(); };
  attempts = 0;
  runtime_fixture f{[](workflow_registry& r) { r.add("retried_effect", &retried_effect); },
                    [sink](runtime_options& o) { o.journal.sink = sink; }};
  f.rt().start_async("retried_effect", "stopped-run", to_bytes(std::string{"x"}),
                     [](expected<run_status>) {});
  REQUIRE(eventually([&] { return sink->holding(); }, 10s, 1ms));
  sink->fail_held();
  auto interrupted = [&] {
    auto recs = f.rt().store().read("stopped-run");
    if (!recs)
      return false;
    for (auto& r : *recs) {
      auto e = decode_event(r.rec, "stopped-run", r.seq);
      if (auto* i = e ? std::get_if<step_interrupted_event>(&*e) : nullptr)
        if (i->attempt == 2)
          return true;
    }
    return false;
  };
  CHECK(eventually(interrupted, 10s, 1ms));
  CHECK(attempts == 1);  // the retry's body never ran
  retry_acknowledged = {};
}
