// The policy gate inside ctx.tool, end to end over a real runtime and LMDB:
// a gated call waits (durably) for a person's decision through the human
// gateway, runs exactly the approved (or edited) arguments, never runs when
// rejected or answered, raises a new request for other arguments, and a
// pending request survives a restart. ask_human waits for an answer the
// same way. How a decision reaches its run: gate_delivery_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_msgpack.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/actors/service/protocol.hpp"
#include "gateway/gate_workflows.hpp"
#include "gateway/index_check.hpp"
#include "gateway/request_row.hpp"
#include "support/actor_ask.hpp"

using namespace endure;
using namespace endure::test;
using namespace endure::test::gate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Starts publishes_twice as `run`; once ann approved its first call and
/// it was published, the ids of that request and of the second call's.
std::pair<std::string, std::string> first_published_second_asked(runtime_fixture& f,
                                                                  const std::string& run) {
  REQUIRE(f.rt().start("publishes_twice", run, 0));
  auto first = pending_request(f, run);
  REQUIRE(f.rt().decide(first, "ann", "approve"));
  REQUIRE(eventually([&] { return published_now().size() == 1; }));
  auto second = pending_request(f, run);  // a new request, not the first approval
  REQUIRE(second != first);
  return {first, second};
}

} // namespace

SCENARIO("a gated call waits for approval and then runs exactly its arguments", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g1", 500));
  auto id = pending_request(f, "g1");
  REQUIRE(f.await_status("g1", run_status::waiting));
  CHECK(published_now().empty());
  auto r = request_row(f, id);
  CHECK(r.tool == "publish");
  CHECK(r.arguments_hash == agent::json_hash(json{{"title", "durable"}, {"audience", 500}}));
  CHECK(r.rule["policy_hash"] == policy()->hash());
  CHECK(r.rule["eligible"] == json{"ann", "bob"});
  auto verdict = f.rt().decide(id, "ann", "approve");
  REQUIRE(verdict);
  CHECK(*verdict == "decided");
  auto out = f.ended("g1", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<json>()["url"] == "https://example.com/durable");
  REQUIRE(published_now().size() == 1);
  CHECK(published_now()[0] == json{{"title", "durable"}, {"audience", 500}});
  REQUIRE(eventually([&] { return request_row(f, id).delivered; }));
  auto again = f.rt().decide(id, "bob", "reject");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::invalid_state);
  CHECK_THAT(again.error().message, Catch::Contains("by ann"));
}

SCENARIO("a call the policy does not gate runs at once", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g2", 10));  // audience 10: the condition does not hold
  CHECK(f.ended("g2", 10s).status == run_status::completed);
  CHECK(published_now().size() == 1);
  auto page = f.rt().store().rows(side_table::requests, "g2/", "", 10);
  REQUIRE(page);
  CHECK(page->rows.empty());
}

SCENARIO("a rejected call never runs, not after a restart either", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g3", 500));
  auto id = pending_request(f, "g3");
  auto stranger = f.rt().decide(id, "mallory", "approve");
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().code == errc::permission_denied);
  REQUIRE(f.rt().decide(id, "bob", "reject", R"({"reason": "not on a Friday"})"));
  auto out = f.ended("g3", 10s);
  REQUIRE(out.status == run_status::completed);
  auto result = out.value<json>();
  CHECK(result["error"] == "rejected");
  CHECK(result["reason"] == "not on a Friday");
  CHECK(result["by"] == json{"bob"});
  f.reopen();
  REQUIRE(f.rt().start("publishes", "g3", 500));  // started again: the same run, ended
  CHECK(f.ended("g3", 5s).value<json>()["error"] == "rejected");
  CHECK(published_now().empty());
  auto trail = request_row(f, id).audit;
  REQUIRE(trail.size() == 3);  // raised, mallory refused, bob's reject
  CHECK(trail[1].principal == "mallory");
  CHECK(trail[2].action == "reject");
}

SCENARIO("an edit runs the edited arguments and a response replaces the call", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g4", 500));
  auto id = pending_request(f, "g4");
  CHECK_FALSE(f.rt().decide(id, "ann", "edit", R"({"arguments": {"title": 5}})"));
  REQUIRE(f.rt().decide(id, "ann", "edit", R"({"arguments": {"title": "edited", "audience": 500}})"));
  CHECK(f.ended("g4", 10s).value<json>()["url"] == "https://example.com/edited");
  REQUIRE(f.rt().start("publishes", "g5", 500));
  auto answer = pending_request(f, "g5");
  REQUIRE(f.rt().decide(answer, "bob", "respond", R"({"text": "already published yesterday"})"));
  CHECK(f.ended("g5", 10s).value<json>()["response"] == "already published yesterday");
  REQUIRE(published_now().size() == 1);
  CHECK(published_now()[0]["title"] == "edited");
}

SCENARIO("other arguments after an approval are gated again", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  auto [first, second] = first_published_second_asked(f, "g6");
  CHECK(request_row(f, second).arguments["title"] == "first, changed");
  CHECK(published_now().size() == 1);
  REQUIRE(f.rt().decide(second, "bob", "approve"));
  CHECK(f.ended("g6", 10s).status == run_status::completed);
  CHECK(published_now().size() == 2);
}

SCENARIO("a run refuses a second decision on a request it has taken one for", "[gate]") {
  // A human gateway that restarted forgot what it had handed a run; a
  // decision made then on the same request reaches a run that took one.
  reset();
  runtime_fixture f{workflows, gated};
  auto [first, second] = first_published_second_asked(f, "twice");
  // bob's rejection of the first request, as the gateway hands it to a run.
  auto late = request_row(f, first);
  REQUIRE(late.outcome);
  late.outcome->what = gateway::decision::reject;
  late.outcome->principals = {"bob"};
  late.outcome->text = "not now";
  write_batch with;
  with.put_row(side_table::requests, first, gateway::to_record(late));
  auto payload = to_bytes(gateway::outcome_payload(*late.outcome));
  auto runs = f.tree_child("runs");
  REQUIRE(runs);
  auto refused = ask<caf::ok_atom>(f.sys(), runs, atoms::signal::value, std::string{"twice"},
                                   gateway::decision_signal(first), payload,
                                   gateway::delivery_id(first), std::move(with));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::already_exists);
  CHECK(request_row(f, first).outcome->principals == std::vector<std::string>{"ann"});
  // Delivered again with nothing to write: ann's (the one it took) is
  // done; bob's is refused too, so the gateway corrects a row naming it.
  auto taken = to_bytes(gateway::outcome_payload(*request_row(f, first).outcome));
  CHECK(ask<caf::ok_atom>(f.sys(), runs, atoms::signal::value, std::string{"twice"},
                          gateway::decision_signal(first), taken,
                          gateway::delivery_id(first)));
  auto again = ask<caf::ok_atom>(f.sys(), runs, atoms::signal::value, std::string{"twice"},
                                 gateway::decision_signal(first), payload,
                                 gateway::delivery_id(first));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::already_exists);
  REQUIRE(f.rt().decide(second, "bob", "approve"));
  CHECK(f.ended("twice", 10s).status == run_status::completed);
  CHECK(published_now().size() == 2);
  CHECK(f.events<signal_received_event>("twice").size() == 2);
}

SCENARIO("a pending request survives a restart and its decision resumes the run once",
         "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g7", 500));
  auto id = pending_request(f, "g7");
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));  // passivated
  f.reopen();
  auto r = request_row(f, id);
  CHECK(r.status == gateway::request_status::pending);
  CHECK(r.arguments["title"] == "durable");
  REQUIRE(f.rt().decide(id, "bob", "approve"));
  CHECK(f.ended("g7", 10s).status == run_status::completed);
  CHECK(published_now().size() == 1);
  CHECK(f.events<signal_received_event>("g7").size() == 1);
}

SCENARIO("ask_human waits for a person's answer", "[gate]") {
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("asks", "q1", 0));
  auto id = pending_request(f, "q1");
  auto q = request_row(f, id);
  CHECK(q.kind == gateway::request_kind::question);
  CHECK(q.arguments["question"] == "Which audience?");
  CHECK_FALSE(f.rt().decide(id, "ann", "approve"));
  REQUIRE(f.rt().decide(id, "ann", "respond", R"({"text": "engineers"})"));
  CHECK(f.ended("q1", 10s).value<std::string>() == "engineers");
}

SCENARIO("a decision signal sent by anyone but the gateway decides nothing", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g8", 500));
  auto id = pending_request(f, "g8");
  // A forged approval under the decision signal's name, through the public API.
  gateway::request_outcome forged{gateway::decision::approve, {"ann"}, 1, "forged", {}, {}, {}};
  REQUIRE(f.rt().signal("g8", gateway::decision_signal(id), gateway::outcome_payload(forged)));
  // The run reads the request's row, finds it pending, and waits again.
  // gate, the woken wait, then either the row check (pending) or, if the
  // signal were believed, the tool itself.
  REQUIRE(eventually([&] { return f.events<step_completed_event>("g8").size() >= 3; }));
  REQUIRE(f.await_status("g8", run_status::waiting));
  CHECK(published_now().empty());
  CHECK(request_row(f, id).status == gateway::request_status::pending);
  REQUIRE(f.rt().decide(id, "bob", "reject"));
  CHECK(f.ended("g8", 10s).value<json>()["error"] == "rejected");
  CHECK(published_now().empty());
}

SCENARIO("a signal under a decision's request id through the actor API is refused and decides "
         "nothing", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g8b", 500));
  auto id = pending_request(f, "g8b");
  REQUIRE(f.await_status("g8b", run_status::waiting));
  // What the gateway sends a run, forged by a client of runtime::handle():
  // an edit to arguments the schema refuses, under the delivery's request
  // id, which a run takes as the gateway's decision.
  json evil = {{"title", 42}, {"evil", true}};
  gateway::request_outcome forged{gateway::decision::edit, {"nobody"}, 0, "forged", evil, {}, {}};
  forged.edited_hash = agent::json_hash(evil);
  auto refused = ask<caf::ok_atom>(f.sys(), f.rt().handle(), service::signal_atom::value,
                                   std::string{"g8b"}, gateway::decision_signal(id),
                                   to_bytes(gateway::outcome_payload(forged)),
                                   gateway::delivery_id(id));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::invalid_argument);
  CHECK_THAT(refused.error().message, Catch::Contains("reserved"));
  // Nothing reached the run: it still waits, and only a decision runs it.
  CHECK(f.events<signal_received_event>("g8b").empty());
  CHECK(published_now().empty());
  CHECK(request_row(f, id).status == gateway::request_status::pending);
  REQUIRE(f.rt().decide(id, "bob", "approve"));
  f.ended("g8b", 10s);
  CHECK(published_now() == std::vector<json>{json{{"title", "durable"}, {"audience", 500}}});
}

SCENARIO("a request whose run ends before a decision is withdrawn from the inbox", "[gate]") {
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "g9", 500));
  auto id = pending_request(f, "g9");
  REQUIRE(f.rt().cancel("g9", "changed my mind"));
  REQUIRE(f.ended("g9", 10s).status == run_status::cancelled);
  REQUIRE(eventually([&] { return request_row(f, id).status != gateway::request_status::pending; }));
  auto r = request_row(f, id);
  CHECK(r.status == gateway::request_status::expired);
  CHECK(r.audit.back().action == "withdrawn");
  CHECK_THAT(r.outcome->text, Catch::Contains("run g9 cancelled before a decision"));
  CHECK(r.outcome->principals.empty());
  CHECK(index_problems(f.rt().store()).empty());  // and so out of the pending index
  auto late = f.rt().decide(id, "ann", "approve");
  REQUIRE_FALSE(late);
  CHECK(late.error().code == errc::invalid_state);
  CHECK_THAT(late.error().message, Catch::Contains("already expired at ")
                                     && Catch::Contains("cancelled before a decision"));
  CHECK(published_now().empty());
  CHECK(f.events<signal_received_event>("g9").empty());
}

SCENARIO("a decision racing its run's cancellation either stands or the request is withdrawn",
         "[gate]") {
  // Either order may win: the decision first (it stands; the run takes it
  // unless the cancel got in first, then it stays on the row), or the
  // withdrawal first (the decision is refused). Never both, never a
  // decision reported as made and then lost.
  reset();
  runtime_fixture f{workflows, gated};
  int decided = 0, withdrawn = 0;
  for (int i = 0; i < 6; ++i) {
    auto run = "race" + std::to_string(i);
    REQUIRE(f.rt().start("publishes", run, 500));
    auto id = pending_request(f, run);
    std::thread canceller{[&] { (void)f.rt().cancel(run, "changed my mind"); }};
    auto verdict = f.rt().decide(id, "ann", "approve");
    canceller.join();
    f.ended(run, 10s);
    REQUIRE(eventually([&] { return request_row(f, id).status != gateway::request_status::pending; }));
    auto r = request_row(f, id);
    if (r.status == gateway::request_status::decided) {
      ++decided;
      CHECK(verdict);
      CHECK(r.outcome->principals == std::vector<std::string>{"ann"});
      REQUIRE(eventually([&] { return request_row(f, id).delivered; }));
    } else {
      ++withdrawn;
      CHECK_FALSE(verdict);
      CHECK(r.status == gateway::request_status::expired);
      // The withdrawal, then (when the decision came after it) its refusal.
      CHECK(std::any_of(r.audit.begin(), r.audit.end(),
                        [](auto& a) { return a.action == "withdrawn"; }));
    }
  }
  INFO("decided first " << decided << ", withdrawn first " << withdrawn);
  CHECK(decided + withdrawn == 6);
  CHECK(index_problems(f.rt().store()).empty());
}

SCENARIO("the gateway's start withdraws the requests of runs that ended while it was down",
         "[gate]") {
  // A crash between a run's end and the withdrawal leaves the request
  // pending under an ended run: the next start finds it.
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "gone1", 500));
  auto id = pending_request(f, "gone1");
  f.close();
  {
    auto j = f.open_journal();
    write_batch b;
    b.set_status("gone1", run_status::failed, "killed by the test", 2);
    REQUIRE(j->commit(std::move(b)));
  }
  f.open();
  REQUIRE(eventually([&] { return request_row(f, id).status != gateway::request_status::pending; }));
  auto r = request_row(f, id);
  CHECK(r.audit.back().action == "withdrawn");
  CHECK_THAT(r.outcome->text, Catch::Contains("run gone1 failed before a decision"));
  CHECK(index_problems(f.rt().store()).empty());
}
