// Deadlines, escalation, quorum, reminders and lifecycle events end to end
// over a real runtime and LMDB, with deadlines of 1-2 s: every assertion
// waits (bounded) for the gateway's events or the run's end, never sleeps.
#include <catch2/catch.hpp>

#include "gateway/request_row.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/persistence/journal.hpp"
#include "gateway/request_events.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::mutex calls_mutex;
std::map<std::string, int> calls;  // tool -> times it ran

int calls_of(const std::string& tool) {
  std::lock_guard g{calls_mutex};
  return calls[tool];
}

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"}, {"properties", {{"title", {{"type", "string"}}}}}};
  for (std::string name : {"post_reject", "post_reject_3s", "post_escalate", "post_keep",
                           "post_vote", "post_remind"})
    REQUIRE(r->add({name, "Posts.", schema, [name](const json&) {
                      std::lock_guard g{calls_mutex};
                      ++calls[name];
                      return json{{"posted", name}};
                    }}));
  return r;
}

std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(R"(
groups: {editors: [ann, bob, cat], managers: [max]}
default:
  approvers: {groups: [editors]}
interrupt_on:
  post_reject: {deadline: {after: 1s, outcome: reject}}
  post_reject_3s: {deadline: {after: 3s, outcome: reject}}
  post_escalate: {deadline: {after: 1s, outcome: escalate, escalate_to: managers}}
  post_keep: {deadline: {after: 1s, outcome: keep_waiting}}
  post_vote: {quorum: 2}
  post_remind:
    reminders: [1s, 2s]
    deadline: {after: 3s, outcome: reject}
)", "deadline-policy.yaml");
  INFO((p ? std::string{} : p.error().message));
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

bool audited(const gateway::human_request& r, const std::string& action) {
  for (auto& a : r.audit)
    if (a.action == action)
      return true;
  return false;
}

} // namespace

SCENARIO("deadline reject: nobody decides, the request expires and the run is told", "[deadline]") {
  runtime_fixture f{workflows, gated};
  event_subscriber sub{f};
  REQUIRE(f.rt().start("posts", "d1", std::string{"post_reject"}));
  auto waiting = sub.events().await("waiting", "d1");
  CHECK(waiting.detail["tool"] == "post_reject");
  CHECK(waiting.detail["eligible"] == json{"ann", "bob", "cat"});
  CHECK(waiting.detail["due_ms"].get<std::int64_t>()
        == waiting.detail["since_ms"].get<std::int64_t>() + 1000);
  auto expired = sub.events().await("expired", "d1");
  CHECK(expired.detail["reason"] == "no decision within 1s");
  auto out = f.ended("d1", 10s);
  REQUIRE(out.status == run_status::completed);
  auto result = out.value<json>();
  CHECK(result["error"] == "rejected");
  CHECK(result["reason"] == "no decision within 1s");
  CHECK(result["by"] == json::array());
  CHECK(calls_of("post_reject") == 0);
  auto r = request_row(f.rt().store(), waiting.id);
  CHECK(r.status == gateway::request_status::expired);
  CHECK(r.audit.back().action == "expired");
  CHECK(r.audit.back().at_ms - r.created_ms >= 1000);
  WHEN("someone decides after the expiry") {
    auto late = f.rt().decide(waiting.id, "ann", "approve");
    THEN("it is refused and the tool still never ran") {
      REQUIRE_FALSE(late);
      CHECK(late.error().code == errc::invalid_state);
      CHECK_THAT(late.error().message, Catch::Contains("already expired at ") && Catch::Contains("(no decision within 1s)"));
      CHECK(calls_of("post_reject") == 0);
    }
  }
}

SCENARIO("deadline escalate: the managers decide, and expire it after a second deadline",
         "[deadline]") {
  runtime_fixture f{workflows, gated};
  event_subscriber sub{f};
  GIVEN("an escalated request") {
    REQUIRE(f.rt().start("posts", "e1", std::string{"post_escalate"}));
    auto escalated = sub.events().await("escalated", "e1");
    CHECK(escalated.detail["to"] == "managers");
    CHECK(escalated.detail["eligible"] == json{"max"});
    CHECK(escalated.detail["status"] == "pending");
    auto r = request_row(f.rt().store(), escalated.id);
    CHECK(audited(r, "escalated"));
    CHECK(r.due_ms >= r.created_ms + 2000);  // a second deadline of the same length
    THEN("an editor may no longer decide; a manager may") {
      auto editor = f.rt().decide(escalated.id, "ann", "approve");
      REQUIRE_FALSE(editor);
      CHECK(editor.error().code == errc::permission_denied);
      REQUIRE(f.rt().decide(escalated.id, "max", "approve"));
      CHECK(f.ended("e1", 10s).value<json>()["posted"] == "post_escalate");
      CHECK(sub.events().kinds("e1")
            == std::vector<std::string>{"waiting", "escalated", "decided"});
    }
  }
  GIVEN("an escalated request nobody decides") {
    REQUIRE(f.rt().start("posts", "e2", std::string{"post_escalate"}));
    auto expired = sub.events().await("expired", "e2");
    CHECK(expired.detail["reason"] == "no decision within 1s after the escalation to managers");
    CHECK(f.ended("e2", 10s).value<json>()["error"] == "rejected");
    CHECK(sub.events().kinds("e2") == std::vector<std::string>{"waiting", "escalated", "expired"});
  }
}

SCENARIO("deadline keep_waiting: the request waits on without a deadline", "[deadline]") {
  runtime_fixture f{workflows, gated};
  event_subscriber sub{f};
  REQUIRE(f.rt().start("posts", "k1", std::string{"post_keep"}));
  auto first = sub.events().await("waiting", "k1");
  REQUIRE(eventually([&] { return sub.events().kinds("k1").size() == 2; }));
  auto again = sub.events().kinds("k1");
  CHECK(again == std::vector<std::string>{"waiting", "waiting"});
  auto r = request_row(f.rt().store(), first.id);
  CHECK(r.status == gateway::request_status::pending);
  CHECK(r.due_ms == 0);
  CHECK(audited(r, "deadline"));
  REQUIRE(f.rt().decide(first.id, "bob", "approve"));
  CHECK(f.ended("k1", 10s).value<json>()["posted"] == "post_keep");
}

SCENARIO("a quorum of 2 of 3 editors, through runtime::decide", "[deadline][quorum]") {
  runtime_fixture f{workflows, gated};
  event_subscriber sub{f};
  REQUIRE(f.rt().start("posts", "v1", std::string{"post_vote"}));
  auto id = sub.events().await("waiting", "v1").id;
  CHECK(sub.events().await("waiting", "v1").detail["quorum"] == 2);
  auto first = f.rt().decide(id, "ann", "approve");
  REQUIRE(first);
  CHECK(*first == "counted 1 of 2");
  auto counted = sub.events().await("counted", "v1");
  CHECK(counted.detail["approved_by"] == json{"ann"});
  auto twice = f.rt().decide(id, "ann", "approve");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == errc::invalid_argument);
  CHECK(calls_of("post_vote") == 0);
  auto second = f.rt().decide(id, "cat", "approve");
  REQUIRE(second);
  CHECK(*second == "decided");
  CHECK(sub.events().await("decided", "v1").detail["by"] == json{"ann", "cat"});
  CHECK(f.ended("v1", 10s).value<json>()["posted"] == "post_vote");
  CHECK(calls_of("post_vote") == 1);
}

SCENARIO("reminders arrive in order and stop once the request is decided", "[deadline][reminder]") {
  runtime_fixture f{workflows, gated};
  event_subscriber sub{f};
  REQUIRE(f.rt().start("posts", "r1", std::string{"post_remind"}));
  auto id = sub.events().await("waiting", "r1").id;
  // A second request raised after the first: its second reminder is due
  // after the first's would be, so once it arrived the first's had its turn.
  REQUIRE(f.rt().start("posts", "r2", std::string{"post_remind"}));
  sub.events().await("waiting", "r2");
  auto reminder = sub.events().await("reminder", "r1");
  CHECK(reminder.detail["number"] == 1);
  CHECK(reminder.detail["of"] == 2);
  REQUIRE(f.rt().decide(id, "ann", "approve"));
  CHECK(f.ended("r1", 10s).status == run_status::completed);
  REQUIRE(eventually([&] {
    return sub.events().kinds("r2") == std::vector<std::string>{"waiting", "reminder", "reminder"};
  }));
  CHECK(sub.events().kinds("r1") == std::vector<std::string>{"waiting", "reminder", "decided"});
  CHECK(request_row(f.rt().store(), id).reminders_sent == 1);
  CHECK(f.ended("r2", 10s).value<json>()["error"] == "rejected");  // its deadline, 3 s
}

SCENARIO("a restart between raise and deadline keeps the deadline", "[deadline][restart]") {
  runtime_fixture f{
    workflows, [](runtime_options& o) {
      gated(o);
      auto p = gateway::parse_policy("interrupt_on:\n  post_reject: {deadline: {after: 2s}}\n",
                                     "restart-policy.yaml");
      REQUIRE(p);
      o.policy = std::make_shared<const gateway::policy>(std::move(*p));
    }};
  std::string id;
  std::int64_t created = 0;
  {
    event_subscriber sub{f};
    REQUIRE(f.rt().start("posts", "t1", std::string{"post_reject"}));
    auto waiting = sub.events().await("waiting", "t1");
    id = waiting.id;
    created = waiting.detail["since_ms"].get<std::int64_t>();
  }
  // Half the deadline passes before the restart: a wait counted again
  // from the restart would end at created + 3 s or later.
  REQUIRE(eventually([&] { return wall_ms() >= created + 1000; }));
  f.reopen();
  CHECK(request_row(f.rt().store(), id).status == gateway::request_status::pending);
  auto out = f.ended("t1", 10s);
  CHECK(out.value<json>()["reason"] == "no decision within 2s");
  auto r = request_row(f.rt().store(), id);
  REQUIRE(r.status == gateway::request_status::expired);
  auto waited = r.audit.back().at_ms - created;
  CHECK(waited >= 2000);
  CHECK(waited < 2900);
}

SCENARIO("a decision made just before the deadline step wins and the request never expires",
         "[deadline][race]") {
  // A 3 s deadline: the raise, the passivation and the close must all come
  // before it (under the sanitizers on a loaded machine they took over 1 s).
  runtime_fixture f{workflows, gated};
  std::string id;
  {
    event_subscriber sub{f};
    REQUIRE(f.rt().start("posts", "x1", std::string{"post_reject_3s"}));
    id = sub.events().await("waiting", "x1").id;
  }
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));  // passivated
  f.close();
  {
    // Decided while no process runs (as `endure approve` does), and the
    // deadline passes before the runtime is back: at the restart the run's
    // overdue wait and the undelivered decision meet.
    auto store = f.open_journal();
    auto r = request_row(*store, id);
    INFO("the request, " << wall_ms() - r.created_ms << " ms after it was raised: "
                         << gateway::to_string(r.status) << " (pending expected: the machine "
                         << "must raise, passivate and close within the 3 s deadline)");
    auto decided = gateway::apply_decision(
      r, {"bob", gateway::decision::approve, {}, "cli", wall_ms()}, nullptr);
    REQUIRE(decided);
    write_batch b;
    b.put_row(side_table::requests, id, gateway::to_record(r));
    REQUIRE(store->commit(std::move(b)));
    REQUIRE(eventually([&] { return wall_ms() >= r.created_ms + 3100; }));
  }
  f.open();
  auto out = f.ended("x1", 10s);
  CHECK(out.value<json>()["posted"] == "post_reject_3s");
  CHECK(calls_of("post_reject_3s") == 1);
  auto r = request_row(f.rt().store(), id);
  CHECK(r.status == gateway::request_status::decided);
  CHECK_FALSE(audited(r, "expired"));
}
