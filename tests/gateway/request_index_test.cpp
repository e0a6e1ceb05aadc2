// The request index (actors/gateway/request_index.hpp): its keys, the
// entries a row should have, and that everyone who stores a row keeps them
// in step, so the gateway's start and the inbox's first page can read the
// index instead of every request. Over a real runtime and LMDB; each check
// compares the whole index with the rows (gateway/index_check.hpp).
#include <catch2/catch.hpp>

#include "gateway/request_row.hpp"

#include <climits>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/journal.hpp"
#include "gateway/index_check.hpp"
#include "gateway/request_events.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"}, {"properties", {{"title", {{"type", "string"}}}}}};
  for (std::string name : {"post", "post_vote", "post_remind", "post_expire"})
    REQUIRE(r->add({name, "Posts.", schema, [](const json&) { return json{{"posted", true}}; }}));
  return r;
}

std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(R"(
groups: {editors: [ann, bob, cat]}
default:
  approvers: {groups: [editors]}
interrupt_on:
  post: true
  post_vote: {quorum: 2}
  post_remind: {reminders: [1s]}
  post_expire: {deadline: {after: 1s, outcome: reject}}
)", "index-policy.yaml");
  REQUIRE(p);
  return std::make_shared<const gateway::policy>(std::move(*p));
}

task<json> posts(context& ctx, std::string tool) {
  json args = {{"title", "durable"}};
  auto result = co_await ctx.tool(tool, args);
  co_return result;
}

void workflows(workflow_registry& r) { r.add("posts", &posts); }

void gated(runtime_options& o) {
  o.tools = tools();
  o.policy = policy();
  o.passivate_after = 10ms;
}

/// Waits (bounded) until the index matches the rows; shows what does not.
void require_index_matches(const journal& store) {
  std::vector<std::string> problems;
  bool ok = eventually([&] {
    problems = index_problems(store);
    return problems.empty();
  });
  for (auto& p : problems)
    UNSCOPED_INFO(p);
  REQUIRE(ok);
}

gateway::human_request pending_request(std::string id, std::int64_t created_ms) {
  gateway::human_request r;
  r.id = std::move(id);
  r.run_id = "gone";  // no such run: a delivery finds nobody to take it
  r.tool = "post";
  r.arguments = json{{"title", "old"}};
  r.rule = {{"allowed_decisions", {"approve", "reject"}}, {"quorum", 1}, {"eligible", {"ann"}}};
  r.created_ms = created_ms;
  return r;
}

std::vector<std::string> ops_of(const write_batch& b) {
  std::vector<std::string> out;
  for (auto& op : b.ops())
    out.push_back((op.kind == write_batch::op_kind::put_row ? "put " : "erase ")
                  + describe_index_key(op.run_id) + " in " + table_name(op.table));
  return out;
}

} // namespace

SCENARIO("index keys sort by time and name their request, and other keys are not entries",
         "[gateway][index]") {
  for (std::string bad : {std::string{}, std::string{"p"}, std::string{"indexed"},
                          gateway::index_key_at("p", 5),  // no request id
                          "x" + gateway::index_key_at("p", 5).substr(1) + "r1/0",
                          std::string(20, '\xff')})
    CHECK_FALSE(gateway::parse_index_key(bad));
  for (std::int64_t t : {std::int64_t{-5}, std::int64_t{0}, std::int64_t{1},
                         std::int64_t{1796130165182}, std::int64_t{LLONG_MAX}}) {
    auto e = gateway::parse_index_key(gateway::index_key_at("d", t) + "run/7");
    REQUIRE(e);
    CHECK(e->kind == 'd');
    CHECK(e->at_ms == t);
    CHECK(e->id == "run/7");
  }
  CHECK(gateway::index_key_at("p", -1) < gateway::index_key_at("p", 0));
  CHECK(gateway::index_key_at("p", 0) < gateway::index_key_at("p", 1));
  CHECK(gateway::index_key_at("p", 255) < gateway::index_key_at("p", 256));
  CHECK(gateway::index_key_at("p", 1) + "zzz" < gateway::index_key_at("p", 2) + "a");
}

SCENARIO("a request's entries follow its status", "[gateway][index]") {
  auto r = pending_request("r1/0", 1000);
  GIVEN("a pending request") {
    auto k = gateway::keys_of(r);
    CHECK(k.pending == gateway::index_key_at("p", 1000) + "r1/0");
    CHECK(k.due.empty());  // no reminders: the gateway has nothing to do at a time
    r.rule["reminders_seconds"] = {60, 120};
    CHECK(gateway::keys_of(r).due == gateway::index_key_at("d", 61'000) + "r1/0");
    r.reminders_sent = 1;
    CHECK(gateway::keys_of(r).due == gateway::index_key_at("d", 121'000) + "r1/0");
    r.reminders_sent = 2;
    CHECK(gateway::keys_of(r).due.empty());
  }
  GIVEN("a decided request") {
    r.rule["reminders_seconds"] = {60};
    auto before = gateway::keys_of(r);
    r.status = gateway::request_status::decided;
    r.outcome = gateway::request_outcome{gateway::decision::approve, {"ann"}, 2000, "cli", {}, {},
                                         {}};
    THEN("it leaves the pending entries, and waits for delivery at time 0") {
      CHECK(gateway::keys_of(r).pending.empty());
      CHECK(gateway::keys_of(r).due == gateway::index_key_at("d", 0) + "r1/0");
      write_batch b;
      gateway::update_index(b, before, r);
      CHECK(ops_of(b) == std::vector<std::string>{"erase p 1000: r1/0 in pending_requests",
                                                  "erase d 61000: r1/0 in request_index",
                                                  "put d 0: r1/0 in request_index"});
    }
    THEN("once delivered it has no entry; expired likewise") {
      auto undelivered = gateway::keys_of(r);
      r.delivered = true;
      CHECK(gateway::keys_of(r) == gateway::index_keys{});
      write_batch b;
      gateway::update_index(b, undelivered, r);
      // ... and the pending entry an older build may have left, whatever
      // `before` says.
      CHECK(ops_of(b) == std::vector<std::string>{"erase d 0: r1/0 in request_index",
                                                  "erase p 1000: r1/0 in pending_requests"});
      r.status = gateway::request_status::expired;
      r.delivered = false;
      CHECK(gateway::keys_of(r) == gateway::index_keys{});
    }
  }
  GIVEN("a row stored again unchanged") {
    write_batch b;
    gateway::update_index(b, gateway::keys_of(r), r);
    CHECK(b.empty());
  }
}

SCENARIO("every row the gateway and the runs store keeps its index entries",
         "[gateway][index]") {
  runtime_fixture f{workflows, gated};
  event_subscriber sub{f};
  auto& store = f.rt().store();
  REQUIRE(f.rt().start("posts", "i1", std::string{"post"}));
  REQUIRE(f.rt().start("posts", "i2", std::string{"post_vote"}));
  REQUIRE(f.rt().start("posts", "i3", std::string{"post_remind"}));
  REQUIRE(f.rt().start("posts", "i4", std::string{"post_expire"}));
  for (auto run : {"i1", "i2", "i3", "i4"})
    sub.events().await("waiting", run);
  require_index_matches(store);  // raised: each pending, i3 with its reminder due
  auto refused = f.rt().decide("i1/0", "mallory", "approve");  // stored too (its audit)
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::permission_denied);
  REQUIRE(f.rt().decide("i2/0", "ann", "approve"));  // counted: 1 of 2
  require_index_matches(store);
  REQUIRE(f.rt().decide("i1/0", "ann", "reject"));
  REQUIRE(f.rt().decide("i2/0", "bob", "approve"));
  CHECK(f.ended("i1", 10s).status == run_status::completed);
  CHECK(f.ended("i2", 10s).status == run_status::completed);
  REQUIRE(eventually([&] { return request_row(store, "i2/0").delivered; }));
  require_index_matches(store);  // decided and delivered: no entries left
  sub.events().await("reminder", "i3");
  require_index_matches(store);  // its only reminder sent: no due entry
  CHECK(f.ended("i4", 10s).value<json>()["error"] == "rejected");  // expired
  require_index_matches(store);
  CHECK(table_keys(store, side_table::request_index)
        == std::set<std::string>{std::string{gateway::indexed_key}});
  CHECK(table_keys(store, side_table::pending_requests)
        == std::set<std::string>{gateway::keys_of(request_row(store, "i3/0")).pending});
}

SCENARIO("a data directory from before the index is indexed at the gateway's first start",
         "[gateway][index]") {
  runtime_fixture f{workflows, gated};
  f.close();
  auto now = wall_ms();
  {
    auto j = f.open_journal();
    // Rows as an older version wrote them: no index entries, no marker.
    auto reminded = pending_request("old/1", now - 10'000);
    reminded.rule["reminders_seconds"] = {1};  // fell due while nothing ran
    auto decided = pending_request("old/2", now - 5'000);
    decided.status = gateway::request_status::decided;
    decided.outcome = gateway::request_outcome{gateway::decision::approve, {"ann"}, now, "cli",
                                               {}, {}, {}};
    auto plain = pending_request("old/3", now);
    write_batch b;
    for (auto* r : {&reminded, &decided, &plain})
      b.put_row(side_table::requests, r->id, gateway::to_record(*r));
    // The fixture's first start indexed the empty table; an older version
    // had no index at all.
    b.erase_row(side_table::request_index, std::string{gateway::indexed_key});
    REQUIRE(j->commit(std::move(b)));
    CHECK(index_problems(*j, false).size() == 4);  // 2 pending, 1 reminder, 1 delivery
  }
  f.open();
  auto& store = f.rt().store();
  require_index_matches(store);
  // The start acted on what the built index says is due.
  REQUIRE(eventually([&] { return request_row(store, "old/1").reminders_sent == 1; }));
  REQUIRE(eventually([&] { return request_row(store, "old/2").delivered; }));  // its run is gone
  require_index_matches(store);
}

SCENARIO("a data directory an endure from before the pending table wrote is indexed again "
         "at the gateway's start", "[gateway][index]") {
  // What the directory holds, beside rows old/1 (pending) and old/2 (decided):
  // "first form": that build indexed it (pending entries in request_index,
  //   its mark) after this build had (its mark, and an entry of old/2, which
  //   the older build decided erasing only its own entry);
  // "cut short": this build's rebuild was killed part way (no mark; old/2's
  //   stale entry still there, old/1's not put yet);
  // "raised since": after this build's rebuild, the older one raised old/1
  //   (its entry in request_index) and was stopped before its start wrote
  //   its mark.
  auto history = GENERATE(as<std::string>{}, "first form", "cut short", "raised since");
  INFO(history);
  runtime_fixture f{workflows, gated};
  f.close();
  auto now = wall_ms();
  {
    auto j = f.open_journal();
    auto waiting = pending_request("old/1", now - 10'000);
    auto decided = pending_request("old/2", now - 5'000);
    auto decided_entry = gateway::keys_of(decided).pending;
    decided.status = gateway::request_status::decided;
    decided.outcome = gateway::request_outcome{gateway::decision::approve, {"ann"}, now, "cli",
                                               {}, {}, {}};
    decided.delivered = true;
    write_batch b;
    b.put_row(side_table::requests, waiting.id, gateway::to_record(waiting));
    b.put_row(side_table::requests, decided.id, gateway::to_record(decided));
    b.put_row(side_table::pending_requests, decided_entry, gateway::index_record());
    // This build's mark is there from the fixture's first start.
    if (history == "cut short")  // erased first by the rebuild
      b.erase_row(side_table::request_index, std::string{gateway::indexed_key});
    else
      b.put_row(side_table::request_index, gateway::keys_of(waiting).pending,
                gateway::index_record());
    if (history == "first form")
      b.put_row(side_table::request_index, std::string{gateway::first_form_indexed_key},
                gateway::index_record());
    REQUIRE(j->commit(std::move(b)));
    auto complete = gateway::index_complete(*j);
    REQUIRE(complete);
    CHECK_FALSE(*complete);  // readers read the rows
    CHECK_FALSE(index_problems(*j).empty());
  }
  f.open();
  auto& store = f.rt().store();
  require_index_matches(store);
  auto complete = gateway::index_complete(store);
  REQUIRE(complete);
  CHECK(*complete);
  // The start's sweep withdraws old/1 (no run "old" exists); the count is
  // LMDB's of the pending table, where nothing stale is left.
  REQUIRE(eventually([&] {
    return request_row(store, "old/1").status == gateway::request_status::expired;
  }));
  require_index_matches(store);
  CHECK(f.rt().metrics().pending_requests == 0);
}

SCENARIO("an index entry that no longer matches its row is erased",
         "[gateway][index]") {
  runtime_fixture f{workflows, gated};
  f.close();
  auto now = wall_ms();
  {
    auto j = f.open_journal();
    auto r = pending_request("s/1", now - 10'000);
    r.rule["reminders_seconds"] = {3600};  // due in an hour
    write_batch b;
    b.put_row(side_table::requests, r.id, gateway::to_record(r));
    gateway::update_index(b, {}, r);
    b.put_row(side_table::request_index, std::string{gateway::indexed_key},
              gateway::index_record());
    // Stale: a reminder of s/1 "due" now, and entries of requests not stored.
    for (auto key : {gateway::index_key_at("d", now - 1000) + "s/1",
                     gateway::index_key_at("d", 0) + "nobody/1",
                     gateway::index_key_at("d", now - 1000) + "nobody/2"})
      b.put_row(side_table::request_index, key, gateway::index_record());
    // Pending entries of runs that ended: of a request not stored, and of one
    // decided (an endure from before the pending table erased its entry in
    // request_index only).
    auto decided = pending_request("s/2", now - 5'000);
    auto decided_entry = gateway::keys_of(decided).pending;
    decided.status = gateway::request_status::decided;
    decided.outcome = gateway::request_outcome{gateway::decision::approve, {"ann"}, now, "cli",
                                               {}, {}, {}};
    decided.delivered = true;
    b.put_row(side_table::requests, decided.id, gateway::to_record(decided));
    for (auto key : {gateway::index_key_at("p", now - 1000) + "nobody/3", decided_entry})
      b.put_row(side_table::pending_requests, key, gateway::index_record());
    REQUIRE(j->commit(std::move(b)));
    REQUIRE(index_problems(*j).size() == 5);
  }
  f.open();
  require_index_matches(f.rt().store());
  // Not reminded early by the stale entry: the gateway reads the row behind
  // an entry before it acts, and the row's own schedule rules
  // (gateway::record_reminder). This guards the reminder, not the index.
  CHECK(request_row(f.rt().store(), "s/1").reminders_sent == 0);
}
