// The task ledger and the progress log on a real LMDB journal: a spec's
// errors name the item and field; items are failing until a verification
// with evidence passes; a ledger is never silently replaced; completion is
// refused while an item fails; overrides and edits are audited; the
// progress log keeps one entry per session and survives a damaged row.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <fstream>

#include "endure/actors/events.hpp"
#include "endure/actors/state/current_item.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/persistence/journal.hpp"
#include "state/state_journal.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::state;
using json = nlohmann::json;

namespace {

std::vector<ledger_item> two_items() {
  auto spec = ledger_spec_from_json(R"({"items": [
    {"id": "doc-01", "description": "Write docs/01.md", "priority": 1,
     "acceptance": ["mentions kill -9"],
     "verification": {"command": "grep -q 'kill -9' docs/01.md"}},
    {"id": "api-02", "description": "Check the API", "priority": 0,
     "verification": {"tool": "check_api", "args": {"path": "/v1"}, "expect": {"ok": true},
                      "timeout_ms": 500}}]})");
  REQUIRE(spec);
  return *spec;
}

evidence proof(bool passed, std::string ran = "grep -q 'kill -9' docs/01.md") {
  evidence e;
  e.ran = std::move(ran);
  e.passed = passed;
  e.exit_status = passed ? 0 : 1;
  e.reason = passed ? "" : "exit status 1, expected 0";
  e.result_hash = "abc";
  e.at_ms = 1000;
  e.session = 2;
  e.run_id = "r1";
  return e;
}

std::string spec_error(const std::string& text) {
  auto r = ledger_spec_from_json(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_argument);
  return r.error().message;
}

} // namespace

SCENARIO("a malformed ledger spec is refused naming the item and the field", "[state][ledger]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(spec_error("not json"), Contains("not valid JSON"));
  CHECK_THAT(spec_error(R"({"items": []})"), Contains("at least one item"));
  CHECK_THAT(spec_error(R"({"itemz": []})"), Contains("itemz: unknown field"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x"}])"),
             Contains("item 1 (\"a\"): verification: missing"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x", "verification": {"command": "true"}},
                           {"id": "b c", "description": "y", "verification": {"command": "true"}}])"),
             Contains("item 2 (\"b c\"): id: must be 1 to 100"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x",
                            "verification": {"command": "true", "timeout_ms": -5}}])"),
             Contains("item 1 (\"a\"): verification.timeout_ms: must be a whole number"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x",
                            "verification": {"command": "true", "tool": "t"}}])"),
             Contains("item 1 (\"a\"): verification.command: exactly one of command and tool"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x",
                            "verification": {"command": "true", "expect": {"ok": 1}}}])"),
             Contains("verification.args: args and expect belong to a tool"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x", "verifcation": {}}])"),
             Contains("item 1 (\"a\"): verifcation: unknown field"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "", "verification": {"command": "true"}}])"),
             Contains("item 1 (\"a\"): description: must not be empty"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x", "acceptance": "one",
                            "verification": {"command": "true"}}])"),
             Contains("item 1 (\"a\"): acceptance: must be an array of strings"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x", "verification": {"command": "true"}},
                           {"id": "a", "description": "y", "verification": {"command": "true"}}])"),
             Contains("item 2 (\"a\"): id: used by an earlier item"));
  CHECK_THAT(spec_error(R"([{"id": "a", "description": "x", "priority": 1.5,
                            "verification": {"command": "true"}}])"),
             Contains("item 1 (\"a\"): priority: must be a whole number"));
}

SCENARIO("a new ledger is all failing, and only evidence that passed makes an item pass",
         "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  auto items = two_items();
  items[0].status = item_status::passing;  // a caller cannot create a passing item
  REQUIRE(store.create("docs", "Write the manual", items, 10));
  auto all = store.items("docs");
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK(all->at(0).status == item_status::failing);
  CHECK(all->at(1).status == item_status::failing);
  CHECK(all->at(0).verify.command == "grep -q 'kill -9' docs/01.md");
  CHECK(all->at(1).verify.timeout == std::chrono::milliseconds{500});

  WHEN("a verification fails") {
    auto it = store.record_verification("docs", "doc-01", proof(false));
    REQUIRE(it);
    THEN("the item stays failing with that evidence") {
      CHECK(it->status == item_status::failing);
      REQUIRE(it->last);
      CHECK(it->last->reason == "exit status 1, expected 0");
      CHECK(store.item("docs", "doc-01")->status == item_status::failing);
    }
    AND_WHEN("a later one passes, and then one fails again") {
      REQUIRE(store.record_verification("docs", "doc-01", proof(true)));
      CHECK(store.item("docs", "doc-01")->status == item_status::passing);
      REQUIRE(store.record_verification("docs", "doc-01", proof(false)));
      THEN("the item follows its latest evidence, and every verification is kept") {
        CHECK(store.item("docs", "doc-01")->status == item_status::failing);
        auto history = store.evidence_of("docs", "doc-01");
        REQUIRE(history);
        REQUIRE(history->size() == 3);
        CHECK_FALSE(history->at(0).passed);
        CHECK(history->at(1).passed);
        CHECK(store.item("docs", "doc-01")->verifications == 3);
      }
    }
  }
  WHEN("the task is completed while an item fails") {
    auto done = store.complete("docs", 20);
    THEN("it is refused naming the failing items") {
      REQUIRE_FALSE(done);
      CHECK(done.error().code == errc::invalid_state);
      CHECK_THAT(done.error().message, Catch::Matchers::Contains("doc-01, api-02"));
      CHECK(store.task("docs")->value().completed_ms == 0);
    }
  }
  WHEN("every item passes, one on a person's override") {
    REQUIRE(store.record_verification("docs", "doc-01", proof(true)));
    auto bad = store.override_passing("docs", "api-02", "", "no reason");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == errc::invalid_argument);
    REQUIRE(store.override_passing("docs", "api-02", "alice", "the API is retired"));
    auto done = store.complete("docs", 30);
    THEN("the task completes and the override is audited in item and task") {
      REQUIRE(done);
      CHECK(done->completed_ms == 30);
      CHECK(store.item("docs", "api-02")->overridden_by == "alice");
      CHECK(store.task("docs")->value().audit
            == std::vector<std::string>{"override api-02 by alice: the API is retired"});
      auto exported = json::parse(*store.export_json("docs"));
      CHECK(exported["complete"] == true);
      CHECK(exported["passing"] == 2);
      CHECK(exported["items"][0]["last"]["ran"] == "grep -q 'kill -9' docs/01.md");
    }
  }
  WHEN("an approved edit changes the verification of a passing item") {
    REQUIRE(store.record_verification("docs", "doc-01", proof(true)));
    item_edit change;
    change.verify = verification{};
    change.verify->command = "test -s docs/01.md";
    auto it = store.edit("docs", "doc-01", change, "bob");
    REQUIRE(it);
    THEN("it is failing again at the next revision, audited") {
      CHECK(it->status == item_status::failing);
      CHECK(it->revision == 1);
      CHECK(store.item("docs", "doc-01")->verify.command == "test -s docs/01.md");
      CHECK(store.task("docs")->value().audit.at(0) == "edit doc-01 (revision 1) approved by bob");
    }
  }
}

SCENARIO("a ledger is created once: the same spec again finds it, another is refused",
         "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  REQUIRE(store.create("docs", "goal", two_items(), 10));
  REQUIRE(store.record_verification("docs", "doc-01", proof(true)));
  auto again = store.create("docs", "goal", two_items(), 99);
  REQUIRE(again);
  CHECK(again->created_ms == 10);
  CHECK(store.item("docs", "doc-01")->status == item_status::passing);  // nothing reset
  auto other = two_items();
  other[0].description = "Something else";
  auto refused = store.create("docs", "goal", other, 11);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::already_exists);
  CHECK_FALSE(store.create("bad id", "goal", two_items(), 1));
  CHECK(store.item("docs", "nope").error().code == errc::not_found);
  CHECK(store.items("none").error().code == errc::not_found);
}

SCENARIO("the progress log keeps one entry per session, in order, across a reopen, and "
         "skips a damaged entry", "[state][progress]") {
  test::temp_dir dir;
  {
    auto j = test::open_state_journal(dir.path());
    ledger_store store{*j};
    for (std::uint32_t s : {1u, 2u, 3u, 2u}) {  // session 2 written back twice (a re-run)
      progress_entry e;
      e.session = s;
      e.tried = "session " + std::to_string(s);
      e.next = "item " + std::to_string(s + 1);
      REQUIRE(store.append_progress("docs", e));
    }
    progress_entry other;
    other.session = 1;
    other.tried = "another task";
    REQUIRE(store.append_progress("docs2", other));
    write_batch damage;
    damage.put_row(side_table::progress, "docs/00000004", record{progress_entry_tag, 1, "{oops"});
    REQUIRE(j->commit(std::move(damage)));
  }
  auto j = test::open_state_journal(dir.path());
  auto log = ledger_store{*j}.progress("docs");
  REQUIRE(log);
  REQUIRE(log->entries.size() == 3);
  CHECK(log->entries[0].tried == "session 1");
  CHECK(log->entries[2].next == "item 4");
  REQUIRE(log->damaged.size() == 1);
  CHECK_THAT(log->damaged[0], Catch::Matchers::Contains("docs/00000004"));
  // The newest entries only (what a waking session reads): the damaged
  // newest row is reported and the read reaches past it (a new run takes
  // the session it follows from the newest entry); another task's entries
  // never count.
  auto newest = ledger_store{*j}.progress("docs", 2);
  REQUIRE(newest);
  REQUIRE(newest->entries.size() == 2);
  CHECK(newest->entries[0].tried == "session 2");
  CHECK(newest->entries[1].tried == "session 3");
  CHECK(newest->damaged.size() == 1);
  auto last = ledger_store{*j}.progress("docs", 1);
  REQUIRE(last);
  REQUIRE(last->entries.size() == 1);
  CHECK(last->entries[0].tried == "session 3");
  auto more = ledger_store{*j}.progress("docs", 10);  // more than there are
  REQUIRE(more);
  CHECK(more->entries.size() == 3);
  CHECK(more->damaged.size() == 1);
  auto one = ledger_store{*j}.progress("docs2", 5);
  REQUIRE(one);
  REQUIRE(one->entries.size() == 1);
  CHECK(one->entries[0].tried == "another task");
  CHECK(ledger_store{*j}.progress("nothing", 5)->entries.empty());
  CHECK(ledger_store{*j}.progress("docs", 0)->entries.empty());
}

SCENARIO("what the session loop tells the tools reads back, and a file a tool overwrote is "
         "refused", "[state][ledger]") {
  test::temp_dir dir;
  std::filesystem::path ws{dir.path()};
  CHECK(read_current_item(ws).error().code == errc::not_found);
  std::filesystem::create_directories(ws / ".endure");
  auto items = two_items();
  std::ofstream{ws / current_item_file} << current_item_json("docs", 7, items[0]);
  auto told = read_current_item(ws);
  REQUIRE(told);
  CHECK(told->task == "docs");
  CHECK(told->session == 7);
  CHECK(told->item.id == "doc-01");
  CHECK(told->item.verify.command == items[0].verify.command);
  std::ofstream{ws / current_item_file} << R"({"status": "passing"})";
  auto forged = read_current_item(ws);
  REQUIRE_FALSE(forged);
  CHECK(forged.error().code == errc::corrupt_record);
}

SCENARIO("an edit or a new ledger that cannot be stored readably is refused, and the ledger "
         "stays readable", "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  REQUIRE(store.create("docs", "goal", two_items(), 10));
  WHEN("an approved edit gives a verification with neither command nor tool") {
    item_edit change;
    change.verify = verification{};
    auto refused = store.edit("docs", "doc-01", change, "bob");
    THEN("it is refused naming task, item and field, and nothing changed") {
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == errc::invalid_argument);
      CHECK_THAT(refused.error().message, Catch::Matchers::Contains("task docs item doc-01")
                                            && Catch::Matchers::Contains("verification.command"));
      auto items = store.items("docs");
      REQUIRE(items);
      CHECK(items->at(0).verify.command == "grep -q 'kill -9' docs/01.md");
      CHECK(items->at(0).revision == 0);
      CHECK(store.task("docs")->value().audit.empty());
    }
  }
  WHEN("an approved edit gives a timeout of 0 or tool arguments that are not JSON") {
    item_edit zero;
    zero.verify = verification{};
    zero.verify->command = "true";
    zero.verify->timeout = std::chrono::milliseconds{0};
    item_edit bad_args;
    bad_args.verify = verification{};
    bad_args.verify->tool = "check_api";
    bad_args.verify->tool_args = "{oops";
    THEN("both are refused and the ledger reads") {
      CHECK(store.edit("docs", "doc-01", zero, "bob").error().code == errc::invalid_argument);
      CHECK(store.edit("docs", "api-02", bad_args, "bob").error().code == errc::invalid_argument);
      CHECK(store.items("docs"));
    }
  }
  WHEN("a ledger is created from items built in code with an empty description") {
    auto items = two_items();
    items[1].description.clear();
    auto refused = store.create("other", "goal", items, 10);
    THEN("it is refused naming the item, and no row of it is stored") {
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == errc::invalid_argument);
      CHECK_THAT(refused.error().message, Catch::Matchers::Contains("api-02"));
      CHECK(store.task("other")->has_value() == false);
    }
  }
}

SCENARIO("evidence whose output is not UTF-8 is stored and read back", "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  REQUIRE(store.create("docs", "goal", two_items(), 10));
  auto e = proof(true);
  e.output_tail = std::string{"ok \xff\xfe binary \xc3"};
  auto it = store.record_verification("docs", "doc-01", e);
  REQUIRE(it);
  CHECK(store.item("docs", "doc-01")->status == item_status::passing);
  auto kept = store.evidence_of("docs", "doc-01");
  REQUIRE(kept);
  REQUIRE(kept->size() == 1);
  CHECK_THAT(kept->at(0).output_tail, Catch::Matchers::StartsWith("ok "));
  CHECK(store.export_json("docs"));
}

SCENARIO("a completed task whose item fails again, or is edited, is no longer complete",
         "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  REQUIRE(store.create("docs", "goal", two_items(), 10));
  REQUIRE(store.record_verification("docs", "doc-01", proof(true)));
  REQUIRE(store.record_verification("docs", "api-02", proof(true, "tool check_api {}")));
  REQUIRE(store.complete("docs", 20));
  REQUIRE(store.task("docs")->value().completed_ms == 20);
  WHEN("a later verification of an item fails") {
    REQUIRE(store.record_verification("docs", "doc-01", proof(false)));
    THEN("the export does not call the task complete while that item fails") {
      CHECK(store.task("docs")->value().completed_ms == 0);
      auto exported = json::parse(*store.export_json("docs"));
      CHECK(exported["failing"] == 1);
      CHECK(exported["complete"] == false);
      AND_THEN("once it passes again the task can complete again") {
        REQUIRE(store.record_verification("docs", "doc-01", proof(true)));
        CHECK(store.complete("docs", 30)->completed_ms == 30);
      }
    }
  }
  WHEN("an approved edit changes an item") {
    item_edit change;
    change.description = "Write docs/01.md again";
    REQUIRE(store.edit("docs", "doc-01", change, "bob"));
    THEN("the task is not complete") {
      CHECK(store.task("docs")->value().completed_ms == 0);
    }
  }
}

SCENARIO("a task has one writer: a run claims it, a restart keeps it, another run gets it only "
         "once the owner is no longer live", "[state][ledger]") {
  using Catch::Matchers::Contains;
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  REQUIRE(store.create("docs", "goal", two_items(), 1));
  std::set<std::string> live{"r1"};
  auto is_live = [&](const std::string& run) { return live.count(run) > 0; };
  REQUIRE(store.claim("docs", "r1", is_live));
  CHECK(store.claim("docs", "r1", is_live));  // r1 restarted
  auto refused = store.claim("docs", "r2", is_live);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::invalid_state);
  CHECK_THAT(refused.error().message, Contains("being worked on by run r1"));
  CHECK(store.task("docs")->value().owner == "r1");
  live.clear();  // r1 ended
  REQUIRE(store.claim("docs", "r2", is_live));
  CHECK(store.task("docs")->value().owner == "r2");
  CHECK(json::parse(*store.export_json("docs"))["owner"] == "r2");
  CHECK(store.claim("none", "r2", is_live).error().code == errc::not_found);

  // Claims racing for an unowned task: exactly one wins (owners count live).
  for (int round = 0; round < 20; ++round) {
    auto task = "race-" + std::to_string(round);
    REQUIRE(store.create(task, "goal", two_items(), 1));
    std::atomic<int> won{0};
    auto claimer = [&](std::string run) {
      if (store.claim(task, run, [](const std::string&) { return true; }))
        ++won;
    };
    std::thread a{claimer, "a"}, b{claimer, "b"};
    a.join();
    b.join();
    CHECK(won == 1);
  }
}
