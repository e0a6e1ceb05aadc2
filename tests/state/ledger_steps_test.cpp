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

void workflows(workflow_registry& r) {
  r.add("verify_binary", &verify_binary);
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
