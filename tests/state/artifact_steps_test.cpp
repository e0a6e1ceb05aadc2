// The artifact and write-back steps in a real runtime over real LMDB: an
// artifact is listed with its run and step, and a replay after a restart
// neither stores nor lists it again; a write-back is one commit keyed by
// run and step, and neither a replay nor a re-run after a commit that
// landed without its journal entry (kill -9 between the two) commits
// again; bad arguments fail the step, naming run and step.
#include <catch2/catch.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/state/artifact_store.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/actors/state/workspace_steps.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

task<std::string> save_then_wait(context& ctx, std::string text) {
  auto preparing = ctx.step("prepare", [] { return 0; });  // the artifact is step 1
  co_await std::move(preparing);
  auto saving = state::save_artifact(ctx, "doc-7", "report.md", text, 2);
  auto id = co_await std::move(saving);
  auto waiting = ctx.wait_signal<std::string>("go");
  co_await std::move(waiting);
  co_return id;
}

task<std::string> save_bad(context& ctx, std::string) {
  auto saving = state::save_artifact(ctx, "no/slashes", "report.md", "x");
  co_return co_await std::move(saving);
}

/// Edits the workspace in a step (so a replay does not edit again), then
/// writes back, then waits.
task<std::string> edit_commit_wait(context& ctx, std::string dir) {
  auto editing = ctx.step("edit", [](const std::string& dir) {
    auto ws = state::workspace::open_or_init(dir);
    if (!ws || !ws->write_file("notes.md", "session 1\n"))
      throw retryable_error("cannot edit the workspace");
    return 0;
  }, dir);
  co_await std::move(editing);
  auto committing = state::commit_workspace(ctx, dir, "Session 1: notes");
  auto id = co_await std::move(committing);
  auto waiting = ctx.wait_signal<std::string>("go");
  co_await std::move(waiting);
  co_return id;
}

/// A write-back that commits even when nothing changed (one commit per
/// session), then waits.
task<std::string> commit_every_time(context& ctx, std::string dir) {
  auto committing = state::commit_workspace(ctx, dir, "Session 2: nothing changed", true);
  auto id = co_await std::move(committing);
  auto waiting = ctx.wait_signal<std::string>("go");
  co_await std::move(waiting);
  co_return id;
}

task<std::string> commit_outside(context& ctx, std::string dir) {
  auto committing = state::commit_workspace(ctx, dir, "   ");
  co_return co_await std::move(committing);
}

void workflows(workflow_registry& r) {
  r.add("save_then_wait", &save_then_wait);
  r.add("save_bad", &save_bad);
  r.add("edit_commit_wait", &edit_commit_wait);
  r.add("commit_outside", &commit_outside);
  r.add("commit_every_time", &commit_every_time);
}

std::size_t completed_steps_named(runtime_fixture& f, const std::string& run,
                                  const std::string& name) {
  std::size_t n = 0;
  for (auto& e : f.events<step_completed_event>(run))
    n += e.name == name;
  return n;
}

std::size_t commits_in(const std::string& dir) {
  auto ws = state::workspace::open_or_init(dir);
  REQUIRE(ws);
  auto log = ws->log(100);
  REQUIRE(log);
  return log->size();
}

} // namespace

SCENARIO("an artifact step is listed with its run and step, and a replay stores nothing again",
         "[state][artifacts][steps]") {
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("save_then_wait", "s1", std::string{"# Report\n"}));
  REQUIRE(f.await_status("s1", run_status::waiting));
  f.reopen();  // the run resumes: its artifact step replays from the journal
  REQUIRE(f.rt().signal("s1", "go", std::string{}));
  auto out = f.ended("s1", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(completed_steps_named(f, "s1", "artifact:report.md") == 1);
  f.close();  // read the journal directly, as a tool would
  auto j = f.open_journal();
  state::artifact_store store{*j};
  CHECK(store.get(out.value<std::string>()) == std::string{"# Report\n"});
  auto listed = store.list("doc-7");
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == "report.md");
  CHECK(listed->front().provenance == state::artifact_provenance{"s1", 2, 1});
  CHECK(j->count_rows(side_table::artifacts, "b/") == std::size_t{1});
}

SCENARIO("an artifact step with a bad task id fails, naming run and step",
         "[state][artifacts][steps]") {
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("save_bad", "b1", std::string{}));
  auto out = f.ended("b1", 10s);
  REQUIRE(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("run b1, step 'artifact:report.md'")
                           && Catch::Contains("task id"));
}

SCENARIO("a write-back step commits once, also when its commit landed before a crash",
         "[state][workspace][steps]") {
  temp_dir tmp;
  auto dir = tmp.file("ws");
  runtime_fixture f{workflows};
  GIVEN("a run that writes back and restarts") {
    REQUIRE(f.rt().start("edit_commit_wait", "w1", dir));
    REQUIRE(f.await_status("w1", run_status::waiting));
    f.reopen();
    REQUIRE(f.rt().signal("w1", "go", std::string{}));
    auto out = f.ended("w1", 10s);
    REQUIRE(out.status == run_status::completed);
    auto ws = state::workspace::open_or_init(dir);
    REQUIRE(ws);
    CHECK(ws->head() == out.value<std::string>());
    CHECK(ws->log(1)->front().key == "w1/1");  // run id / step
    CHECK(commits_in(dir) == 2);
    CHECK(ws->is_clean() == true);
  }
  GIVEN("its commit is on disk but its step is not journaled (kill -9 between)") {
    {
      auto ws = state::workspace::open_or_init(dir);
      REQUIRE(ws);
      REQUIRE(ws->write_file("notes.md", "session 1\n"));
      REQUIRE(ws->commit_all("Session 1: notes", "w2/1"));
    }
    REQUIRE(f.rt().start("edit_commit_wait", "w2", dir));
    REQUIRE(f.await_status("w2", run_status::waiting));
    THEN("the step finds its key on HEAD and commits nothing") {
      CHECK(commits_in(dir) == 2);
      CHECK(completed_steps_named(f, "w2", "workspace:commit") == 1);
    }
  }
  GIVEN("an empty write-back's commit is on disk but its step is not journaled") {
    std::string landed;
    {
      auto ws = state::workspace::open_or_init(dir);
      REQUIRE(ws);
      auto w = ws->commit_all("Session 2: nothing changed", "w3/0", true);
      REQUIRE(w);
      landed = w->commit;
    }
    REQUIRE(f.rt().start("commit_every_time", "w3", dir));
    REQUIRE(f.await_status("w3", run_status::waiting));
    THEN("the step finds its key on HEAD and makes no second empty commit") {
      CHECK(commits_in(dir) == 2);
      REQUIRE(f.rt().signal("w3", "go", std::string{}));
      auto out = f.ended("w3", 10s);
      REQUIRE(out.status == run_status::completed);
      CHECK(out.value<std::string>() == landed);
    }
  }
}

SCENARIO("a write-back step with an empty message fails, naming run and step",
         "[state][workspace][steps]") {
  temp_dir tmp;
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("commit_outside", "e1", tmp.file("ws")));
  auto out = f.ended("e1", 10s);
  REQUIRE(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("run e1, step 'workspace:commit'")
                           && Catch::Contains("message is empty"));
}
