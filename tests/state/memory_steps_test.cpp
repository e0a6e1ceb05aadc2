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
#include "endure/net/llm_backend.hpp"

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

/// Both texts embedded by the runtime's model (the sim: dim 64).
task<std::string> with_model(context& ctx, int) {
  auto a = state::remember(ctx, facts, "deploy-day", "deploys happen on Tuesdays",
                           {.ttl = {}, .session = {}, .embeddings = state::embedding_source::model});
  co_await std::move(a);
  auto recalling = state::recall(ctx, facts, "when do deploys happen", 1,
                                 state::embedding_source::model);
  auto hits = co_await std::move(recalling);
  co_return describe(hits);
}

void workflows(workflow_registry& r) {
  r.add("remember_recall_wait", &remember_recall_wait);
  r.add("recall_bad_k", &recall_bad_k);
  r.add("remember_forget", &remember_forget);
  r.add("with_model", &with_model);
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

SCENARIO("with model embeddings each text is embedded by the runtime's model in a step "
         "of its own", "[memory]") {
  runtime_fixture f(workflows, [](runtime_options& o) {
    auto m = std::make_shared<state::memory_options>();
    m->dim = 64;  // the sim's embedding width
    o.memory = m;
    o.llm = net::make_llm_backend({});
  });
  REQUIRE(f.rt().start("with_model", "m", 0));
  auto out = f.ended("m", 20s);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<std::string>() == "deploy-day=deploys happen on Tuesdays (m/)\n");
  std::vector<std::string> steps;
  for (auto& e : f.events<step_completed_event>("m"))
    steps.push_back(e.name);
  CHECK(steps == std::vector<std::string>{"remember:team/facts/embedding", "remember:team/facts",
                                          "recall:team/facts/embedding", "recall:team/facts"});
  GIVEN("a store whose width is not the model's") {
    runtime_fixture g(workflows, [](runtime_options& o) {
      o.memory = std::make_shared<state::memory_options>();  // 128 wide
      o.llm = net::make_llm_backend({});
    });
    REQUIRE(g.rt().start("with_model", "w", 0));
    auto failed = g.ended("w", 20s);
    CHECK(failed.status == run_status::failed);
    CHECK_THAT(failed.error, Catch::Contains("64 numbers") && Catch::Contains("128"));
  }
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
