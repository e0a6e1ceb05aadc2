// The ledger's workflow steps in a real runtime on real LMDB: a
// verification that fails leaves the item failing with its evidence, one
// that passes makes it passing; a tool verification that hangs is cut off
// at its timeout; an edit of an item's verification waits for a person's
// approval through the human gateway and is audited with their name.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>

#include <nlohmann/json.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_steps.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "support/eventually.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Released at the end of the hanging-tool scenario, so its thread ends.
std::promise<void> release_tool;
std::shared_future<void> tool_released;

const char* ledger_text = R"({"items": [
  {"id": "file", "description": "Create done.txt", "priority": 0,
   "verification": {"command": "grep -q finished done.txt", "timeout_ms": 5000}},
  {"id": "api", "description": "The API answers", "priority": 1,
   "verification": {"tool": "probe", "args": {"mode": "ok"}, "expect": {"ok": true},
                    "timeout_ms": 300}},
  {"id": "hang", "description": "A check that hangs", "priority": 2,
   "verification": {"tool": "probe", "args": {"mode": "hang"}, "timeout_ms": 300}}]})";

std::vector<state::ledger_item> items() {
  auto spec = state::ledger_spec_from_json(ledger_text);
  REQUIRE(spec);
  return *spec;
}

std::vector<state::ledger_item> counted_items() {
  auto spec = state::ledger_spec_from_json(R"({"items": [
    {"id": "counted", "description": "A check that counts its runs",
     "verification": {"command": "echo ran >> runs.txt", "timeout_ms": 5000}}]})");
  REQUIRE(spec);
  return *spec;
}

/// Creates the ledger, verifies `file` (the workspace is the input),
/// waits for a signal, verifies it again, then the two tool items.
task<std::vector<std::string>> verify_flow(context& ctx, std::string dir) {
  auto create = state::create_ledger(ctx, "t1", "test the steps", items());
  co_await std::move(create);
  std::vector<std::string> statuses;
  auto first = state::verify_item(ctx, "t1", "file", dir, 2);
  statuses.push_back(state::to_string((co_await std::move(first)).status));
  auto go = ctx.wait_signal<std::string>("again");
  co_await std::move(go);
  auto second = state::verify_item(ctx, "t1", "file", dir, 3);
  statuses.push_back(state::to_string((co_await std::move(second)).status));
  auto api = state::verify_item(ctx, "t1", "api", dir, 3);
  statuses.push_back(state::to_string((co_await std::move(api)).status));
  auto hang = state::verify_item(ctx, "t1", "hang", dir, 3);
  statuses.push_back(state::to_string((co_await std::move(hang)).status));
  co_return statuses;
}

/// Asks to change `file`'s verification; returns whether it was approved.
task<bool> edit_flow(context& ctx, std::string) {
  auto create = state::create_ledger(ctx, "t2", "test edits", items());
  co_await std::move(create);
  state::item_edit change;
  change.verify = state::verification{};
  change.verify->command = "test -s done.txt";
  auto ask = state::request_edit(ctx, "t2", "file", change, "grep is too strict");
  co_return co_await std::move(ask);
}

/// Creates the ledger, waits for "go", then verifies `counted` once. The
/// check appends a line to runs.txt: how many times it really ran.
task<std::string> verify_once(context& ctx, std::string dir) {
  auto create = state::create_ledger(ctx, "t3", "count the runs", counted_items());
  co_await std::move(create);
  auto go = ctx.wait_signal<std::string>("go");
  co_await std::move(go);
  auto verify = state::verify_item(ctx, "t3", "counted", dir, 2);
  co_return state::to_string((co_await std::move(verify)).status);
}

/// A tool check whose result holds bytes that are not UTF-8 (a tool that
/// returns a file's raw content).
task<std::string> verify_binary(context& ctx, std::string dir) {
  auto spec = state::ledger_spec_from_json(R"({"items": [
    {"id": "blob", "description": "The blob is there",
     "verification": {"tool": "probe", "args": {"mode": "binary"}, "expect": {"ok": true}}}]})");
  REQUIRE(spec);
  auto create = state::create_ledger(ctx, "t4", "binary results", *spec);
  co_await std::move(create);
  auto verify = state::verify_item(ctx, "t4", "blob", dir, 2);
  co_return state::to_string((co_await std::move(verify)).status);
}

/// Which build the next replay of "reads_state" is: the earlier one read
/// the whole progress log and the whole ledger in these steps (the session
/// loop's "task: progress so far" and "session N/orient").
bool earlier_build = true;
journal* state_store = nullptr;

/// Reads the task's newest progress entry and its ledger's view, waits for
/// "go", then says what it read: "SESSIONS/CURRENT/LISTED/TOTAL/PASSING".
task<std::string> reads_state(context& ctx, std::string) {
  std::vector<state::progress_entry> progress;
  state::ledger_view view;
  if (earlier_build) {  // as the earlier build's steps journaled them
    auto body = [](const std::string& task) {
      json all = json::array();
      auto log = state::ledger_store{*state_store}.progress(task);
      for (auto& e : log->entries)
        all.push_back(json::parse(state::to_json_text(e)));
      return all.dump();
    };
    auto so_far = ctx.step("task: progress so far", body, std::string{"t5"});
    for (auto& j : json::parse(co_await std::move(so_far)))
      progress.push_back(*state::progress_from_json(j.dump()));
    auto read = state::read_ledger(ctx, "t5", "session 4/orient");
    view.items = co_await std::move(read);
  } else {
    auto so_far = state::read_progress(ctx, "t5", "task: progress so far", 1);
    progress = co_await std::move(so_far);
    auto read = state::read_ledger_view(ctx, "t5", "session 4/orient", 20);
    view = co_await std::move(read);
  }
  auto go = ctx.wait_signal<std::string>("go");
  co_await std::move(go);
  std::string sessions;
  for (auto& e : progress)
    sessions += std::to_string(e.session);
  co_return sessions + "/" + view.current + "/" + std::to_string(view.items.size()) + "/"
    + std::to_string(view.total) + "/" + std::to_string(view.passing);
}

void workflows(workflow_registry& r) {
  r.add("verify_binary", &verify_binary);
  r.add("reads_state", &reads_state);
  r.add("verify_once", &verify_once);
  r.add("verify_flow", &verify_flow);
  r.add("edit_flow", &edit_flow);
}

void with_tools(runtime_options& o) {
  auto tools = std::make_shared<agent::tool_registry>();
    json schema = {{"type", "object"}, {"properties", {{"mode", {{"type", "string"}}}}}};
  REQUIRE(tools->add({"probe", "Probes the API.", schema, [](const json& args) {
                        if (args.at("mode") == "hang")
                          tool_released.wait();
                        if (args.at("mode") == "binary")
                          return json{{"ok", true}, {"content", std::string{"PK\x03\x04\xff"}}};
                        return json{{"ok", true}};
                      }}));
  o.tools = tools;
}

state::ledger_item stored(runtime_fixture& f, const std::string& task, const std::string& id) {
  auto it = state::ledger_store{const_cast<journal&>(f.rt().store())}.item(task, id);
  REQUIRE(it);
  return *it;
}

} // namespace

SCENARIO("an item passes only on the evidence of a verification that ran and passed",
         "[state][ledger][steps]") {
  release_tool = {};
  tool_released = release_tool.get_future().share();
  test::temp_dir workspace;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("verify_flow", "v1", workspace.path()));
  REQUIRE(eventually([&] {
    auto it = state::ledger_store{const_cast<journal&>(f.rt().store())}.item("t1", "file");
    return it && it->verifications == 1;
  }));
  THEN("the first verification, before the file exists, leaves it failing with evidence") {
    auto it = stored(f, "t1", "file");
    CHECK(it.status == state::item_status::failing);
    REQUIRE(it.last);
    CHECK(it.last->ran == "grep -q finished done.txt");
    CHECK(it.last->exit_status == 2);  // grep: no such file
    CHECK(it.last->session == 2);
    CHECK(it.last->run_id == "v1");
  }
  std::ofstream{workspace.path() + "/done.txt"} << "finished\n";
  REQUIRE(f.rt().signal("v1", "again", std::string{"go"}));
  auto out = f.ended("v1", 20s);
  release_tool.set_value();
  REQUIRE(out.status == run_status::completed);
  THEN("the file passes, the tool with the expected result passes, the hanging tool is cut "
       "off and stays failing") {
    CHECK(out.value<std::vector<std::string>>()
          == std::vector<std::string>{"failing", "passing", "passing", "failing"});
    auto file = stored(f, "t1", "file");
    CHECK(file.status == state::item_status::passing);
    CHECK(file.verifications == 2);
    auto api = stored(f, "t1", "api");
    CHECK(api.last->ran == R"(tool probe {"mode":"ok"})");
    auto hang = stored(f, "t1", "hang");
    CHECK(hang.status == state::item_status::failing);
    CHECK(hang.last->timed_out);
    CHECK(hang.last->reason == "timed out after 300 ms: the tool did not answer");
  }
}

SCENARIO("an edit of an item's verification waits for a person's approval and is audited",
         "[state][ledger][steps]") {
  runtime_fixture f{workflows, with_tools};
  auto pending = [&](const std::string& run) {
    auto page = f.rt().store().rows(side_table::requests, run + "/", "", 10);
    REQUIRE(page);
    return page->rows;
  };
  GIVEN("a person rejects it") {
    REQUIRE(f.rt().start("edit_flow", "e1", std::string{}));
    REQUIRE(eventually([&] { return pending("e1").size() == 1; }));
    auto req = gateway::from_record(pending("e1").front().rec, pending("e1").front().key);
    REQUIRE(req);
    CHECK_THAT(req->arguments.dump(), Catch::Contains("test -s done.txt"));
    REQUIRE(f.rt().decide(req->id, "carol", "respond", json{{"text", "reject"}}.dump()));
    auto out = f.ended("e1", 10s);
    THEN("nothing changes") {
      CHECK_FALSE(out.value<bool>());
      auto it = stored(f, "t2", "file");
      CHECK(it.verify.command == "grep -q finished done.txt");
      CHECK(it.revision == 0);
    }
  }
  GIVEN("a person approves it") {
    REQUIRE(f.rt().start("edit_flow", "e2", std::string{}));
    REQUIRE(eventually([&] { return pending("e2").size() == 1; }));
    auto req = gateway::from_record(pending("e2").front().rec, pending("e2").front().key);
    REQUIRE(req);
    REQUIRE(f.rt().decide(req->id, "alice", "respond", json{{"text", "approve"}}.dump()));
    auto out = f.ended("e2", 10s);
    THEN("the item has the new verification at revision 1, failing, audited with the name") {
      CHECK(out.value<bool>());
      auto it = stored(f, "t2", "file");
      CHECK(it.verify.command == "test -s done.txt");
      CHECK(it.revision == 1);
      CHECK(it.status == state::item_status::failing);
      auto row = state::ledger_store{const_cast<journal&>(f.rt().store())}.task("t2");
      REQUIRE(row);
      CHECK((*row)->audit == std::vector<std::string>{"edit file (revision 1) approved by alice"});
    }
  }
}

SCENARIO("a verification whose evidence was stored just before a crash is not run again when "
         "its step re-runs", "[state][ledger][steps]") {
  test::temp_dir workspace;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("verify_once", "c1", workspace.path()));
  auto& store = const_cast<journal&>(f.rt().store());
  REQUIRE(eventually([&] { return state::ledger_store{store}.item("t3", "counted").has_value(); }));
  // What a kill -9 between the verify step's commit and its journal entry
  // leaves: the check ran once (runs.txt), its evidence is stored, the
  // step (create 0, signal 1, verify 2) has no result.
  std::ofstream{workspace.path() + "/runs.txt"} << "ran\n";
  state::evidence e;
  e.ran = "echo ran >> runs.txt";
  e.passed = true;
  e.exit_status = 0;
  e.session = 2;
  e.run_id = "c1";
  e.step = "c1/2";
  REQUIRE(state::ledger_store{store}.record_verification("t3", "counted", e));
  REQUIRE(f.rt().signal("c1", "go", std::string{"go"}));
  auto out = f.ended("c1", 20s);
  REQUIRE(out.status == run_status::completed);
  bool verify_was_step_2 = false;
  for (auto& done : f.events<step_completed_event>("c1"))
    verify_was_step_2 = verify_was_step_2 || (done.name == "verify:counted" && done.step == 2);
  REQUIRE(verify_was_step_2);
  THEN("one verification, one evidence row, and the check ran once") {
    CHECK(out.value<std::string>() == "passing");
    auto it = stored(f, "t3", "counted");
    CHECK(it.verifications == 1);
    CHECK(state::ledger_store{store}.evidence_of("t3", "counted")->size() == 1);
    std::ifstream runs{workspace.path() + "/runs.txt"};
    std::string line;
    int lines = 0;
    while (std::getline(runs, line))
      ++lines;
    CHECK(lines == 1);
  }
}

SCENARIO("a tool check whose result holds bytes that are not UTF-8 is judged like any other",
         "[state][ledger][steps]") {
  test::temp_dir workspace;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("verify_binary", "b1", workspace.path()));
  auto out = f.ended("b1", 20s);
  INFO(out.error);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<std::string>() == "passing");
  auto it = stored(f, "t4", "blob");
  REQUIRE(it.last);
  CHECK(it.last->passed);
  CHECK(it.verifications == 1);
}

SCENARIO("a run an earlier build journaled reading the whole progress log and ledger replays "
         "with the newest entry and the ledger's view", "[state][ledger][steps][upgrade]") {
  // A long task lives across upgrades: its replay must meet the steps an
  // earlier build journaled (same names, same inputs), or the run is
  // quarantined for non-determinism. What they journaled (the whole log,
  // the whole ledger) is read as the newer steps would have read it.
  earlier_build = true;
  runtime_fixture f{workflows, with_tools};
  state_store = &const_cast<journal&>(f.rt().store());
  state::ledger_store store{*state_store};
  REQUIRE(store.create("t5", "compat", items(), 1));
  state::evidence passed;
  passed.passed = true;
  REQUIRE(store.record_verification("t5", "file", passed));
  for (std::uint32_t s : {1u, 2u, 3u}) {
    state::progress_entry e;
    e.session = s;
    REQUIRE(store.append_progress("t5", e));
  }
  REQUIRE(f.rt().start("reads_state", "u1", std::string{}));
  REQUIRE(f.await_status("u1", run_status::waiting));
  f.close();
  earlier_build = false;
  f.open();
  state_store = &const_cast<journal&>(f.rt().store());
  REQUIRE(f.rt().signal("u1", "go", std::string{"go"}));
  auto out = f.ended("u1", 10s);
  INFO(out.error);
  REQUIRE(out.status == run_status::completed);
  // The newest entry; "api" (priority 1) is the item to work on, "hang"
  // the next failing; 3 items, "file" passing.
  CHECK(out.value<std::string>() == "3/api/2/3/1");
}
