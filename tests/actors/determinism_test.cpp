// The determinism guard and poison steps: a replay that asks for a
// different step quarantines that run only; a step in flight at too many
// process deaths quarantines its run instead of crash-looping, both from a
// journal written as such deaths leave it and with a real process that a
// step kills again and again.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "endure/actors/events.hpp"
#include "actors/runtime_fixture.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/serialization.hpp"
#include "support/actor_ask.hpp"
#include "support/child_process.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

bool renamed = false;

task<int> changing(context& ctx, int) {
  co_await ctx.step(renamed ? "renamed" : "original", [] { return 1; });
  co_await ctx.wait_signal<bool>("go");
  co_return 1;
}

task<int> steady(context& ctx, int) {
  co_await ctx.wait_signal<bool>("go");
  co_return 2;
}

void workflows(workflow_registry& r) {
  r.add("changing", &changing);
  r.add("steady", &steady);
}

} // namespace

SCENARIO("non-determinism quarantines the run and spares the others", "[determinism]") {
  renamed = false;
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("changing", "bad", 0));
  REQUIRE(f.rt().start("steady", "good", 0));
  REQUIRE(f.await_status("bad", run_status::waiting));
  renamed = true;  // a deploy changed the workflow under the live run
  f.reopen();
  (void)f.rt().signal("bad", "go", true);  // wakes it: the replay finds the change
  auto bad = f.rt().wait("bad", 10s);
  REQUIRE(bad);
  CHECK(bad->status == run_status::quarantined);
  CHECK_THAT(bad->error, Catch::Contains("'original'") && Catch::Contains("'renamed'")
                           && Catch::Contains("step 0"));
  REQUIRE(f.rt().signal("good", "go", true));
  CHECK(f.rt().wait("good", 10s)->status == run_status::completed);
}

SCENARIO("a quarantined run takes a signal once per request id and refuses another under it",
         "[determinism][quarantine]") {
  renamed = false;
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("changing", "bad", 0));
  REQUIRE(f.await_status("bad", run_status::waiting));
  renamed = true;
  f.reopen();
  (void)f.rt().signal("bad", "go", true);
  REQUIRE(f.rt().wait("bad", 10s)->status == run_status::quarantined);
  // What the human gateway delivers: a decision under its request id,
  // journaled for the run's release; again after a lost answer; and then
  // another decision under the same id (a gateway that forgot the first).
  auto runs = f.tree_child("runs");
  REQUIRE(runs);
  auto deliver = [&](const std::string& payload) {
    return ask<caf::ok_atom>(f.sys(), runs, atoms::signal::value, std::string{"bad"},
                             std::string{"decision"}, payload, std::string{"req-1"});
  };
  auto anns = to_bytes(std::string{"ann approves"});
  REQUIRE(deliver(anns));
  CHECK(deliver(anns));
  auto bobs = deliver(to_bytes(std::string{"bob rejects"}));
  REQUIRE_FALSE(bobs);
  CHECK(bobs.error().code == errc::already_exists);
  auto signals = f.events<signal_received_event>("bad");
  auto taken = std::count_if(signals.begin(), signals.end(),
                             [](const signal_received_event& s) { return s.request_id == "req-1"; });
  CHECK(taken == 1);
  CHECK(std::find_if(signals.begin(), signals.end(), [&](const signal_received_event& s) {
          return s.request_id == "req-1" && s.payload == anns;
        }) != signals.end());
}

SCENARIO("a step that keeps dying with the process is quarantined", "[determinism]") {
  renamed = false;
  runtime_fixture f{workflows, [](runtime_options& o) { o.max_step_crashes = 3; }};
  f.close();
  {
    // Write the journal of a run whose step 0 started three times and never
    // finished: what three process deaths inside that step leave behind.
    journal_options jo;
    jo.data_dir = f.dir();
    auto j = journal::open(jo);
    REQUIRE(j);
    register_event_types((*j)->types());
    write_batch b;
    b.create_run({"poison", "changing", run_status::running, 1, 1, {}});
    b.append("poison", 1, encode_event(run_started_event{"changing", to_bytes(0), 1}));
    for (std::uint32_t a = 1; a <= 3; ++a)
      b.append("poison", 1 + a, encode_event(step_started_event{0, "original", 0, a, 2}));
    REQUIRE((*j)->commit(std::move(b)));
  }
  f.open();
  auto out = f.rt().wait("poison", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::quarantined);
  CHECK_THAT(out->error, Catch::Contains("'original'") && Catch::Contains("3 times"));

  WHEN("a person releases it after a fix") {
    auto not_quarantined = f.rt().release("nobody", "fixed");
    CHECK_FALSE(not_quarantined);
    REQUIRE(f.rt().release("poison", "deployed the fix"));
    REQUIRE(f.rt().signal("poison", "go", true));
    auto done = f.rt().wait("poison", 10s);
    REQUIRE(done);
    CHECK(done->status == run_status::completed);
    auto again = f.rt().release("poison", "twice");
    REQUIRE_FALSE(again);
    CHECK_THAT(again.error().message, Catch::Contains("not quarantined"));
  }
}

// A body that kills the process at once must find its attempt's start
// durable (run_state::begin_workflow commits the starts before the first
// bodies run), or the deaths are never counted and the run crash-loops.
SCENARIO("a step that kills its process is quarantined after max_step_crashes deaths",
         "[determinism][crash]") {
  temp_dir dir;
  std::optional<std::string> outcome;
  int deaths = 0;
  for (int i = 0; i < 8 && !outcome; ++i) {
    child_process child{{POISON_CHILD_PATH, dir.path()}};
    auto line = child.read_line(30s);  // the child prints only an outcome
    auto code = child.wait(30s);
    if (line) {
      outcome = *line;
      CHECK(code == 0);
    } else {
      CHECK(code == -SIGKILL);
      ++deaths;
    }
  }
  INFO(deaths << " process deaths");
  REQUIRE(outcome);
  CHECK_THAT(*outcome, Catch::Contains("quarantined") && Catch::Contains("'boom'")
                         && Catch::Contains("5 times"));
  CHECK(deaths == 5);  // runtime_options::max_step_crashes' default
}
