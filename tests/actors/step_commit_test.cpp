// How a step's records reach the journal: the result of step k and the
// start of step k+1 share one commit, and that commit is durable before
// step k+1's body runs (run_state::persist_with).
#include <catch2/catch.hpp>

#include <mutex>
#include <vector>

#include "endure/actors/events.hpp"
#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

const journal* store = nullptr;

struct seen_at_body_start {
  int started = 0;    ///< step_started records durable when the body began
  int completed = 0;  ///< step_completed records durable then
};
std::mutex seen_mutex;
std::vector<seen_at_body_start> seen;

// Runs on an activity thread: no Catch2 assertions here (not thread-safe);
// a failed read shows as -1 counts.
void look_at_journal() {
  seen_at_body_start s;
  auto records = store->read("r1");
  for (auto& r : records ? *records : std::vector<stored_record>{}) {
    auto ev = decode_event(r.rec, "r1", r.seq);
    s.started += ev && std::holds_alternative<step_started_event>(*ev);
    s.completed += ev && std::holds_alternative<step_completed_event>(*ev);
  }
  if (!records)
    s = {-1, -1};
  std::lock_guard guard{seen_mutex};
  seen.push_back(s);
}

task<int> three_steps(context& ctx, int n) {
  auto body = [](int x) {
    look_at_journal();
    return x + 1;
  };
  for (int k = 0; k < 3; ++k)
    n = co_await ctx.step("add", body, n);
  co_return n;
}

} // namespace

SCENARIO("a step's start is durable, with its predecessor's result, before its body runs",
         "[workflow]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("three_steps", &three_steps); }};
  store = &f.rt().store();
  seen.clear();
  REQUIRE(f.rt().start("three_steps", "r1", 0) == run_status::running);
  auto out = f.rt().wait("r1", 10s);
  REQUIRE(out);
  CHECK(out->value<int>() == 3);
  REQUIRE(seen.size() == 3);
  // The first step's start is committed with the run's creation; every
  // later one with its predecessor's result:
  for (std::size_t k = 0; k < seen.size(); ++k) {
    INFO("body of step " << k);
    CHECK(seen[k].completed == static_cast<int>(k));
    CHECK(seen[k].started == static_cast<int>(k) + 1);
  }
}
