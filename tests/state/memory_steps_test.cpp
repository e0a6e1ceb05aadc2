// The memory steps in a real runtime over real LMDB: remember / recall /
// forget are journaled steps, so a run restarted after its recall replays
// the hits it saw even though the store changed meanwhile; a runtime
// without a memory store, or input the store refuses, fails the run with a
// message that says so.
#include <catch2/catch.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/state/memory_steps.hpp"
#include "endure/actors/state/memory_store.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* facts = "team/facts";
constexpr const char* question = "when do deploys happen";

std::string describe(const std::vector<state::memory_hit>& hits) {
  std::string out;
  for (auto& h : hits)
    out += h.key + "=" + h.text + " (" + h.from.run_id + "/" + h.from.session + ")\n";
  return out;
}

task<std::string> remember_recall_wait(context& ctx, int) {
  auto a = state::remember(ctx, facts, "deploy-day", "deploys happen on Tuesdays after standup",
                           {.session = "s1"});
  co_await std::move(a);
  auto b = state::remember(ctx, facts, "lunch", "lunch happens at noon", {.session = "s1"});
  co_await std::move(b);
  auto c = state::remember(ctx, facts, "freeze", "no deploys this week", {.ttl = 1h, .session = {}});
  co_await std::move(c);
  auto recalling = state::recall(ctx, facts, question, 2);
  auto hits = co_await std::move(recalling);
  co_await ctx.wait_signal<int>("go");
  co_return describe(hits);
}

task<std::string> recall_bad_k(context& ctx, int) {
  auto recalling = state::recall(ctx, facts, question, 0);
  co_await std::move(recalling);
  co_return "unreachable";
}

task<std::string> remember_forget(context& ctx, int) {
  auto a = state::remember(ctx, facts, "gone", "soon forgotten");
  co_await std::move(a);
  auto f1 = state::forget(ctx, facts, "gone");
  bool first = co_await std::move(f1);
  auto f2 = state::forget(ctx, facts, "gone");
  bool second = co_await std::move(f2);
  auto recalling = state::recall(ctx, facts, "soon forgotten", 3);
  auto hits = co_await std::move(recalling);
  co_return std::to_string(first) + std::to_string(second) + std::to_string(hits.size());
}

void workflows(workflow_registry& r) {
  r.add("remember_recall_wait", &remember_recall_wait);
  r.add("recall_bad_k", &recall_bad_k);
  r.add("remember_forget", &remember_forget);
}

void with_memory(runtime_options& o) { o.memory = std::make_shared<state::memory_options>(); }

std::unique_ptr<state::memory_store> open_memory(journal& j) {
  auto m = state::memory_store::open(j, {});
  REQUIRE(m);
  return std::move(*m);
}

} // namespace

SCENARIO("a recall inside a run is journaled: after a restart the run replays the same hits "
         "though the store changed", "[memory]") {
  runtime_fixture f(workflows, with_memory);
  REQUIRE(f.rt().start("remember_recall_wait", "r", 0));
  REQUIRE(f.await_status("r", run_status::waiting));
  f.close();
  std::string seen;
  {
    // What the recall saw, asked again of the store as it was; then the
    // store changes under the parked run.
    auto j = f.open_journal();
    auto m = open_memory(*j);
    auto q = escalation::hashed_ngram_embedding(question);
    auto hits = m->query(facts, q, 2, wall_ms());
    REQUIRE(hits);
    REQUIRE(hits->size() == 2);
    seen = describe(*hits);
    CHECK_THAT(seen, Catch::Contains("deploy-day=deploys happen on Tuesdays after standup (r/s1)"));
    state::memory_entry e;
    e.ns = facts;
    e.key = "deploy-day";
    e.text = "deploys happen on Fridays";
    e.embedding = escalation::hashed_ngram_embedding(e.text);
    REQUIRE(m->put(e));
    REQUIRE(*m->erase(facts, "lunch"));
    REQUIRE(*m->erase(facts, "freeze"));
  }
  f.open();
  REQUIRE(f.rt().signal("r", "go", 1));
  auto out = f.ended("r", 20s);
  REQUIRE(out.status == run_status::completed);
  THEN("the run's hits are the ones it saw before, read from its journal") {
    CHECK(out.value<std::string>() == seen);
    CHECK(f.rt().stats().steps_executed == 0);  // nothing ran again
  }
  THEN("the writes were not run again either") {
    f.close();
    auto j = f.open_journal();
    auto m = open_memory(*j);
    auto got = m->get(facts, "deploy-day", wall_ms());
    REQUIRE(got);
    REQUIRE(*got);
    CHECK((*got)->text == "deploys happen on Fridays");
    CHECK(m->size() == 1);
  }
}

SCENARIO("forget erases an entry once and a recall no longer finds it", "[memory]") {
  runtime_fixture f(workflows, with_memory);
  REQUIRE(f.rt().start("remember_forget", "f", 0));
  auto out = f.ended("f", 20s);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<std::string>() == "100");
}

SCENARIO("memory steps fail with a message that says why", "[memory]") {
  GIVEN("a runtime without a memory store") {
    runtime_fixture f(workflows);
    REQUIRE(f.rt().start("remember_recall_wait", "n", 0));
    auto out = f.ended("n", 20s);
    CHECK(out.status == run_status::failed);
    CHECK_THAT(out.error, Catch::Contains("run n, step 'remember:team/facts'") &&
                            Catch::Contains("runtime_options::memory"));
  }
  GIVEN("a recall of k = 0") {
    runtime_fixture f(workflows, with_memory);
    REQUIRE(f.rt().start("recall_bad_k", "k", 0));
    auto out = f.ended("k", 20s);
    CHECK(out.status == run_status::failed);
    CHECK_THAT(out.error, Catch::Contains("step 'recall:team/facts'") &&
                            Catch::Contains("k must be 1"));
    CHECK(f.rt().stats().retries == 0);  // refused input is not retried
  }
}
