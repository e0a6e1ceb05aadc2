// Each request gets the answer that is true when it lands: a start is not
// told "running" before its run exists, a wait is not left hanging when the
// run will never exist, and a signal nobody awaits yet leaves its run
// waiting (and passivated), not stored as running forever.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "actors/batch_hold.hpp"
#include "actors/runtime_fixture.hpp"
#include "endure/actors/events.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

batch_hold hold;

task<int> trivial(context&, int n) { co_return n; }

task<int> waits_for_approve(context& ctx, int) {
  auto v = co_await ctx.wait_signal<int>("approve");
  co_return v.value_or(-1);
}

void workflows(workflow_registry& r) {
  r.add("trivial", &trivial);
  r.add("waits_for_approve", &waits_for_approve);
}

bool creates(const write_batch& b, const std::string& run) {
  for (auto& op : b.ops())
    if (op.kind == write_batch::op_kind::create_run && op.run_id == run)
      return true;
  return false;
}

/// Holds the first commit creating "s2"; every commit creating it fails.
void failing_creation(runtime_options& o) {
  o.journal.inject_fault = [](const write_batch& b) -> expected<void> {
    if (auto held = hold.on_batch(b); !held)
      return held;
    if (creates(b, "s2"))
      return make_error(errc::disk_full, "injected: no space left");
    return {};
  };
}

std::shared_ptr<std::promise<expected<run_status>>> start_async(runtime& rt,
                                                                const std::string& id) {
  auto p = std::make_shared<std::promise<expected<run_status>>>();
  rt.start_async("trivial", id, to_bytes(1), [p](expected<run_status> r) { p->set_value(r); });
  return p;
}

/// Checks that a start of `asked` was refused because run `id` executes
/// `existing`.
void refused_as(const expected<run_status>& r, const std::string& id,
                const std::string& existing, const std::string& asked) {
  INFO("start: " << (r ? std::string{to_string(*r)} : r.error().to_string()));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_state);
  CHECK_THAT(r.error().message, Catch::Contains("run " + id + " exists and executes workflow '"
                                                + existing + "', not '" + asked + "'"));
}

} // namespace

SCENARIO("a second start while the run's creation is in flight gets the creation's verdict",
         "[requests]") {
  runtime_fixture f{workflows, failing_creation};
  hold.arm([](const write_batch& b) { return creates(b, "s2"); });
  auto first = start_async(f.rt(), "s2");
  REQUIRE(hold.await_holding());
  auto second = start_async(f.rt(), "s2");
  auto second_answer = second->get_future();
  // Nothing is true yet about s2: no answer may come while its creation is held.
  CHECK(second_answer.wait_for(1s) == std::future_status::timeout);
  hold.release();
  REQUIRE(second_answer.wait_for(10s) == std::future_status::ready);
  auto answer = second_answer.get();
  INFO("second start: " << (answer ? std::string{to_string(*answer)} : answer.error().to_string()));
  REQUIRE_FALSE(answer);
  CHECK(answer.error().code == errc::disk_full);
  auto first_answer = first->get_future();
  REQUIRE(first_answer.wait_for(10s) == std::future_status::ready);
  CHECK_FALSE(first_answer.get());
}

SCENARIO("a wait for a run whose creation failed is told it does not exist", "[requests]") {
  runtime_fixture f{workflows, failing_creation};
  hold.arm([](const write_batch& b) { return creates(b, "s2"); });
  auto start = start_async(f.rt(), "s2");
  REQUIRE(hold.await_holding());
  expected<run_outcome> out = make_error(errc::timeout, "not answered");
  std::thread waiter([&] { out = f.rt().wait("s2", 20s); });
  REQUIRE(eventually([&] { return f.rt().stats().waits == 1; }));
  hold.release();
  waiter.join();
  REQUIRE_FALSE(out);
  CHECK(out.error().code == errc::not_found);
  CHECK(f.rt().stats().waits == 0);
}

SCENARIO("a signal nobody awaits yet leaves its run waiting and passivated", "[requests]") {
  runtime_fixture f{workflows, [](runtime_options& o) { o.passivate_after = 20ms; }};
  REQUIRE(f.rt().start("waits_for_approve", "w", 0));
  REQUIRE(f.await_status("w", run_status::waiting));
  REQUIRE(f.rt().signal("w", "comment", 1));  // journaled; the run waits for "approve"
  REQUIRE(f.await_status("w", run_status::waiting));
  CHECK(eventually([&] { return f.rt().stats().live_actors == 0; }));
  REQUIRE(f.rt().signal("w", "approve", 7));
  CHECK(f.ended("w", 10s).value<int>() == 7);
}

SCENARIO("a start under a run's id with another workflow is refused, not attached",
         "[requests]") {
  runtime_fixture f{workflows, failing_creation};
  GIVEN("a run waiting with its actor live") {
    REQUIRE(f.rt().start("waits_for_approve", "w", 0));
    REQUIRE(f.await_status("w", run_status::waiting));
    refused_as(f.rt().start("trivial", "w", 1), "w", "waits_for_approve", "trivial");
    THEN("the run is untouched and the same workflow still attaches") {
      CHECK(f.rt().start("waits_for_approve", "w", 0) == run_status::waiting);
      REQUIRE(f.rt().signal("w", "approve", 3));
      CHECK(f.ended("w", 10s).value<int>() == 3);
    }
  }
  GIVEN("a run that has ended (its actor gone: the manager answers from the meta)") {
    REQUIRE(f.rt().start("trivial", "t", 5));
    CHECK(f.ended("t", 10s).value<int>() == 5);
    refused_as(f.rt().start("waits_for_approve", "t", 0), "t", "trivial", "waits_for_approve");
    CHECK(f.rt().start("trivial", "t", 5) == run_status::completed);
  }
  GIVEN("a run whose creating commit is still in flight") {
    hold.arm([](const write_batch& b) { return creates(b, "s3"); });
    auto first = start_async(f.rt(), "s3");  // "trivial"
    REQUIRE(hold.await_holding());
    auto p = std::make_shared<std::promise<expected<run_status>>>();
    f.rt().start_async("waits_for_approve", "s3", to_bytes(0),
                       [p](expected<run_status> r) { p->set_value(r); });
    auto other = p->get_future();
    // Refused at once: the run being created executes the other workflow.
    REQUIRE(other.wait_for(10s) == std::future_status::ready);
    refused_as(other.get(), "s3", "trivial", "waits_for_approve");
    hold.release();
    auto created = first->get_future();
    REQUIRE(created.wait_for(10s) == std::future_status::ready);
    CHECK(created.get() == run_status::running);
  }
}
