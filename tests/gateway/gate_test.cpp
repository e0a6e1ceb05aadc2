// The policy gate inside ctx.tool, end to end over a real runtime and LMDB:
// a gated call waits (durably) for a person's decision through the human
// gateway, runs exactly the approved (or edited) arguments, never runs when
// rejected or answered, raises a new request for other arguments, and a
// pending request survives a restart. ask_human waits for an answer the
// same way.
#include <catch2/catch.hpp>

#include "gateway/request_row.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/persistence/journal.hpp"
#include "gateway/index_check.hpp"
#include "support/actor_ask.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::mutex published_mutex;
std::vector<json> published;  // the arguments publish actually ran with
std::atomic<int> search_calls{0};
/// The journal whose commits publish counts when it starts (null: none).
std::atomic<const journal*> counted_store{nullptr};
std::atomic<std::uint64_t> commits_at_publish{0};

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json post = {{"type", "object"},
               {"properties", {{"title", {{"type", "string"}}}, {"audience", {{"type", "integer"}}}}},
               {"required", {"title"}}};
  REQUIRE(r->add({"publish", "Publishes a post.", post,
                  [](const json& args) {
                    if (auto* store = counted_store.load())
                      commits_at_publish = store->stats().commits;
                    std::lock_guard g{published_mutex};
                    published.push_back(args);
                    return json{{"url", "https://example.com/" + args["title"].get<std::string>()}};
                  },
                  true}));
  json query = {{"type", "object"}, {"properties", {{"q", {{"type", "string"}}}}}};
  REQUIRE(r->add({"search", "Searches.", query, [](const json&) {
                    ++search_calls;
                    return json{{"hits", 2}};
                  }}));
  return r;
}

std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(R"(
groups: {editors: [ann, bob]}
interrupt_on:
  search: false
  publish:
    description: Publishing is public.
    approvers: {groups: [editors]}
    when: {pointer: /audience, op: gt, value: 100}
)", "test-policy.yaml");
  REQUIRE(p);
  return std::make_shared<const gateway::policy>(std::move(*p));
}

task<json> publishes(context& ctx, int audience) {
  json args = {{"title", "durable"}, {"audience", audience}};
  auto result = co_await ctx.tool("publish", args);
  co_return result;
}

task<json> publishes_twice(context& ctx, int) {
  json first = {{"title", "first"}, {"audience", 500}};
  co_await ctx.tool("publish", first);
  json changed = {{"title", "first, changed"}, {"audience", 500}};
  auto second = co_await ctx.tool("publish", changed);
  co_return second;
}

task<std::string> asks(context& ctx, int) {
  // Named locals, not temporaries in the co_await (README: g++ 12 pitfall).
  std::string question = "Which audience?";
  std::vector<std::string> choices{"engineers", "managers"};
  auto ask = ctx.ask_human(question, choices);
  auto answer = co_await std::move(ask);
  co_return answer;
}

/// Released by the test: the work asks_then_computes does on the run's own
/// thread after its answer, before its next await (bounded: 20 s).
std::promise<void> computation;
/// Its future, taken once per test (a replay of the work waits on it too).
std::shared_future<void> computed;

/// Arms computation for a test.
void new_computation() {
  computation = std::promise<void>{};
  computed = computation.get_future().share();
}
std::atomic<bool> computing{false};

task<std::string> asks_then_computes(context& ctx, int) {
  std::string question = "Which audience?";
  std::vector<std::string> choices;
  auto ask = ctx.ask_human(question, choices);
  auto answer = co_await std::move(ask);
  // The commit taking the answer waits for this: long work between awaits.
  computing = true;
  computed.wait_for(std::chrono::seconds{20});
  co_return answer;
}

/// asks_then_computes, then waiting for signal "finish" (at most 60 s).
task<std::string> asks_computes_and_waits(context& ctx, int x) {
  auto answer = co_await asks_then_computes(ctx, x);
  auto finish = ctx.wait_signal<int>("finish", std::chrono::seconds{60});
  co_await std::move(finish);
  co_return answer;
}

void workflows(workflow_registry& r) {
  r.add("asks_then_computes", &asks_then_computes);
  r.add("asks_computes_and_waits", &asks_computes_and_waits);
  r.add("publishes", &publishes);
  r.add("publishes_twice", &publishes_twice);
  r.add("asks", &asks);
}

void gated(runtime_options& o) {
  o.tools = tools();
  o.policy = policy();
  o.passivate_after = 10ms;
}

/// Writes of a row of run "undurable"'s requests that carry none of its
/// log (the gateway's own stores) fail while this is above 0, one each.
std::atomic<int> refused_row_stores{0};

void gated_refusing_row_stores(runtime_options& o) {
  gated(o);
  o.journal.inject_fault = [](const write_batch& b) -> expected<void> {
    bool row = false, log = false;
    for (auto& op : b.ops()) {
      row |= op.kind == write_batch::op_kind::put_row && op.table == side_table::requests
             && op.run_id.starts_with("undurable/");
      log |= op.kind == write_batch::op_kind::append;
    }
    if (row && !log && refused_row_stores.fetch_sub(1) > 0)
      return make_error(errc::disk_full, "injected: no space left");
    return {};
  };
}

std::ptrdiff_t attempts_by(const gateway::human_request& r, const std::string& principal) {
  return std::count_if(r.audit.begin(), r.audit.end(),
                       [&](const gateway::audit_entry& e) { return e.principal == principal; });
}

void reset() {
  std::lock_guard g{published_mutex};
  published.clear();
  search_calls = 0;
}

std::vector<json> published_now() {
  std::lock_guard g{published_mutex};
  return published;
}

/// The run's pending request, once it is journaled.
std::string pending_request(runtime_fixture& f, const std::string& run) {
  return pending_request_of(f.rt().store(), run);
}

gateway::human_request request_row(runtime_fixture& f, const std::string& id) {
  return endure::test::request_row(f.rt().store(), id);
}

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

/// What the human gateway answers a run whose wait on request `id` timed
/// out (the message a run's deadline step sends it).
expected<gateway::parsed_deadline_answer> deadline_answer_of(runtime_fixture& f,
                                                             const std::string& id) {
  auto gw = f.tree_child("human_gateway");
  REQUIRE(gw);
  auto text = ask<std::string>(f.sys(), gw, atoms::deadline::value, id);
  if (!text)
    return text.error();
  return gateway::parse_deadline_answer(*text);
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

SCENARIO("a decision reaches its waiting run in the commit that stores it", "[gate]") {
  for (bool passivated : {false, true}) {
    INFO((passivated ? "the run passivated first" : "the run's actor waiting"));
    reset();
    runtime_fixture f{workflows, [passivated](runtime_options& o) {
                        gated(o);
                        o.passivate_after = passivated ? 10ms : 10min;
                      }};
    auto run = std::string{"c"} + (passivated ? "p" : "l");
    REQUIRE(f.rt().start("publishes", run, 500));
    auto id = pending_request(f, run);
    REQUIRE(f.await_status(run, run_status::waiting));
    if (passivated)
      REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
    REQUIRE(f.settle_commits());
    counted_store = &f.rt().store();
    auto before = f.rt().store().stats().commits;
    REQUIRE(f.rt().decide(id, "ann", "approve"));
    // Decided: the row comes back delivered with the signal that woke the run.
    CHECK(request_row(f, id).delivered);
    CHECK(f.ended(run, 10s).status == run_status::completed);
    counted_store = nullptr;
    // The row, the signal, the wait's end and the tool starting: one
    // commit. The run takes the outcome from the gateway's signal, with no
    // step that reads the row again.
    CHECK(commits_at_publish - before == 1);
    CHECK(f.events<signal_received_event>(run).size() == 1);
    for (auto& e : f.events<step_started_event>(run))
      CHECK(e.name != "decision:publish");
    auto problems = index_problems(f.rt().store());
    for (auto& p : problems)
      UNSCOPED_INFO(p);
    CHECK(problems.empty());
  }
}

SCENARIO("a run an earlier build journaled reading its decision from the row replays it",
         "[gate][upgrade]") {
  // Earlier builds read every decision from the request's row in a step
  // "decision:TOOL" after the wait. A run left with that step journaled
  // (started, not finished: a kill) must replay it, not skip it for the
  // outcome the signal carries, or its next step would not match.
  auto completed = GENERATE(false, true);
  INFO((completed ? "the step completed" : "the step started, then a kill"));
  reset();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("publishes", "old1", 500));
  auto id = pending_request(f, "old1");
  REQUIRE(f.await_status("old1", run_status::waiting));
  std::uint64_t gate_step = 0;
  for (auto& e : f.events<step_completed_event>("old1"))
    if (e.name == "gate:publish")
      gate_step = e.step;
  auto r = request_row(f, id);
  f.close();
  {
    auto j = f.open_journal();
    auto before = gateway::keys_of(r);
    REQUIRE(gateway::apply_decision(r, {"ann", gateway::decision::approve, {}, "cli", 1}, nullptr));
    r.delivered = true;
    auto payload = to_bytes(gateway::outcome_payload(*r.outcome));
    auto signal = gateway::decision_signal(id);
    auto last = j->last_seq("old1");
    REQUIRE(last);
    write_batch b;
    b.put_row(side_table::requests, id, gateway::to_record(r));
    gateway::update_index(b, before, r);
    b.append("old1", *last + 1,
             encode_event(signal_received_event{signal, payload, 2, gateway::delivery_id(id)}));
    b.append("old1", *last + 2,
             encode_event(step_completed_event{gate_step + 1, signal, hash_bytes(signal), 0,
                                               payload, 2, 0, *last + 1, {}}));
    // As the earlier build's ctx.step("decision:publish", read, id) journaled it.
    msgpack::sbuffer input;
    msgpack::packer<msgpack::sbuffer> pk(input);
    pk.pack(std::string{"decision:publish"});
    pk.pack(id);
    auto input_hash = hash_bytes(std::string_view{input.data(), input.size()});
    b.append("old1", *last + 3,
             encode_event(step_started_event{gate_step + 2, "decision:publish", input_hash, 1, 2}));
    if (completed)
      b.append("old1", *last + 4,
               encode_event(step_completed_event{gate_step + 2, "decision:publish", input_hash, 1,
                                                 to_bytes(gateway::outcome_payload(*r.outcome)),
                                                 2, 0, 0, {}}));
    b.set_status("old1", run_status::running, {}, 2);
    REQUIRE(j->commit(std::move(b)));
  }
  f.open();
  auto out = f.ended("old1", 10s);
  INFO(out.error);
  REQUIRE(out.status == run_status::completed);
  CHECK(published_now().size() == 1);
  int reads = 0;
  for (auto& e : f.events<step_completed_event>("old1"))
    reads += e.name == "decision:publish";
  CHECK(reads == 1);  // replayed when completed, run once when only started
}

SCENARIO("a request row that binds other arguments is refused when the gate meets it",
         "[gate]") {
  // The run takes the outcome its decision signal carries without reading
  // the row again, so the gate checks the binding when it finds the row.
  reset();
  runtime_fixture f{workflows, gated};
  f.close();
  {
    auto j = f.open_journal();
    gateway::human_request other;
    other.id = "x1/0";  // the idempotency key of run x1's gate step
    other.run_id = "x1";
    other.tool = "publish";
    other.arguments = {{"title", "something else"}, {"audience", 500}};
    other.arguments_hash = agent::json_hash(other.arguments);
    write_batch b;
    b.put_row(side_table::requests, other.id, gateway::to_record(other));
    gateway::update_index(b, {}, other);
    REQUIRE(j->commit(std::move(b)));
  }
  f.open();
  REQUIRE(f.rt().start("publishes", "x1", 500));
  auto out = f.ended("x1", 10s);
  CHECK(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("x1/0") && Catch::Contains("other arguments"));
  CHECK(published_now().empty());
}

SCENARIO("a decision its run commits after the gateway stopped waiting keeps the audit "
         "written since", "[gate]") {
  reset();
  new_computation();
  computing = false;
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("asks_then_computes", "late", 0));
  auto id = pending_request(f, "late");
  REQUIRE(f.await_status("late", run_status::waiting));
  // The run takes ann's answer and computes past the gateway's wait (5 s)
  // for its commit: the gateway stores the row undelivered and answers.
  auto first = f.rt().decide(id, "ann", "respond", R"({"text": "engineers"})");
  REQUIRE(first);
  CHECK(*first == "decided");
  REQUIRE(computing);
  CHECK_FALSE(request_row(f, id).delivered);
  // A second answer is refused, and the refusal is in the audit trail.
  auto second = f.rt().decide(id, "bob", "respond", R"({"text": "managers"})");
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::invalid_state);
  REQUIRE(attempts_by(request_row(f, id), "bob") == 1);
  // Now the run's commit lands, with the row as it was when ann answered.
  computation.set_value();
  CHECK(f.ended("late", 10s).value<std::string>() == "engineers");
  REQUIRE(eventually([&] { return request_row(f, id).delivered; }));
  auto row = request_row(f, id);
  CHECK(attempts_by(row, "bob") == 1);
  REQUIRE(row.outcome);
  CHECK(row.outcome->principals == std::vector<std::string>{"ann"});
  CHECK(f.events<signal_received_event>("late").size() == 1);
  CHECK(index_problems(f.rt().store()).empty());
}

SCENARIO("a decision neither its run nor the gateway journaled in time stands and is stored "
         "later", "[gate]") {
  // The run was handed ann's answer, so it may still journal it: the
  // gateway must not take another decision, and must store ann's itself.
  enum class bob { silent, answers, answers_while_journal_refuses, answers_after_the_run };
  auto when = GENERATE(bob::silent, bob::answers, bob::answers_while_journal_refuses,
                       bob::answers_after_the_run);
  bool refusing = when == bob::answers_while_journal_refuses || when == bob::answers_after_the_run;
  INFO((when == bob::silent    ? "nobody else answers"
        : when == bob::answers ? "bob answers too"
        : when == bob::answers_after_the_run
          ? "the run journals it while the journal refuses the gateway; then bob answers"
          : "bob answers while the journal still refuses"));
  reset();
  new_computation();
  computing = false;
  refused_row_stores = 0;
  runtime_fixture f{workflows, gated_refusing_row_stores};
  REQUIRE(f.rt().start("asks_then_computes", "undurable", 0));
  auto id = pending_request(f, "undurable");
  REQUIRE(f.await_status("undurable", run_status::waiting));
  // The run takes ann's answer and computes past the gateway's wait (5 s);
  // the gateway's own store of the row then fails.
  refused_row_stores = refusing ? 1000 : 1;
  auto first = f.rt().decide(id, "ann", "respond", R"({"text": "engineers"})");
  REQUIRE_FALSE(first);
  CHECK(first.error().code == errc::timeout);
  CHECK_THAT(first.error().message, Catch::Contains("it stands"));
  REQUIRE(computing);
  CHECK(refused_row_stores < (refusing ? 1000 : 1));
  if (when == bob::answers_after_the_run) {
    // The run's commit stores the row with the decision, delivered; the
    // decision the gateway kept then gives way to it (no second copy, no
    // index entry of its own), and bob is refused as usual.
    computation.set_value();
    CHECK(f.ended("undurable", 10s).value<std::string>() == "engineers");
    refused_row_stores = 0;
    auto by_bob = f.rt().decide(id, "bob", "respond", R"({"text": "managers"})");
    REQUIRE_FALSE(by_bob);
    CHECK_THAT(by_bob.error().message, Catch::Contains("by ann"));
    auto row = request_row(f, id);
    REQUIRE(row.outcome);
    CHECK(row.outcome->principals == std::vector<std::string>{"ann"});
    CHECK(row.delivered);
    CHECK(attempts_by(row, "bob") == 1);
    CHECK(index_problems(f.rt().store()).empty());
    return;
  }
  if (when != bob::silent) {
    auto by_bob = f.rt().decide(id, "bob", "respond", R"({"text": "managers"})");
    REQUIRE_FALSE(by_bob);
    CHECK(by_bob.error().code == errc::invalid_state);
    CHECK_THAT(by_bob.error().message, Catch::Contains("by ann"));
    if (when == bob::answers_while_journal_refuses) {
      // A run's deadline met now is not answered from the row (pending):
      // the run is told to wait a second more, and nothing expires.
      auto asked_at = wall_ms();
      auto at_deadline = deadline_answer_of(f, id);
      REQUIRE(at_deadline);
      CHECK_FALSE(at_deadline->outcome);
      CHECK(at_deadline->due_ms >= asked_at + 500);
      CHECK(at_deadline->due_ms <= wall_ms() + 1000);
      CHECK(request_row(f, id).status == gateway::request_status::pending);
    }
    refused_row_stores = 0;  // the journal takes writes again
  }
  // bob's refused attempt is in the audit trail when the journal took it.
  auto bobs = when == bob::answers ? 1 : 0;
  // Stored by the gateway while the run still computes.
  REQUIRE(eventually([&] { return request_row(f, id).outcome.has_value(); }));
  auto stored = request_row(f, id);
  CHECK(stored.outcome->principals == std::vector<std::string>{"ann"});
  CHECK(attempts_by(stored, "bob") == bobs);
  CHECK_FALSE(stored.delivered);
  computation.set_value();
  CHECK(f.ended("undurable", 10s).value<std::string>() == "engineers");
  REQUIRE(eventually([&] { return request_row(f, id).delivered; }));
  auto row = request_row(f, id);
  REQUIRE(row.outcome);
  CHECK(row.outcome->principals == std::vector<std::string>{"ann"});
  CHECK(attempts_by(row, "bob") == bobs);
  CHECK(f.events<signal_received_event>("undurable").size() == 1);
  CHECK(index_problems(f.rt().store()).empty());
  // Asked at a deadline now, the gateway answers with ann's decision.
  auto at_deadline = deadline_answer_of(f, id);
  REQUIRE(at_deadline);
  REQUIRE(at_deadline->outcome);
  CHECK_THAT(*at_deadline->outcome, Catch::Contains("engineers"));
}

SCENARIO("a decision a run took before its gateway restarted is the one its request names",
         "[gate]") {
  // ann's answer reaches the run, which computes before journaling it; the
  // gateway cannot store it either and is then restarted by its
  // supervisor, forgetting it. bob's answer, stored once the run had not
  // answered in 5 s, is the row's for a while; the run acts on ann's.
  // The run has ended when the gateway next delivers bob's answer, or it
  // is alive and waits on.
  auto run_ends = GENERATE(true, false);
  INFO((run_ends ? "the run ends at once" : "the run waits on"));
  reset();
  new_computation();
  computing = false;
  refused_row_stores = 0;
  runtime_fixture f{workflows, gated_refusing_row_stores};
  REQUIRE(f.rt().start(run_ends ? "asks_then_computes" : "asks_computes_and_waits", "undurable",
                       0));
  auto id = pending_request(f, "undurable");
  REQUIRE(f.await_status("undurable", run_status::waiting));
  refused_row_stores = 1000;
  auto by_ann = f.rt().decide(id, "ann", "respond", R"({"text": "engineers"})");
  REQUIRE_FALSE(by_ann);
  CHECK(by_ann.error().code == errc::timeout);
  REQUIRE(computing);
  auto old = f.tree_child("human_gateway");
  REQUIRE(old);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  REQUIRE(eventually([&] {
    auto now = f.tree_child("human_gateway");
    return now && now != old;
  }));
  refused_row_stores = 0;
  CHECK(request_row(f, id).status == gateway::request_status::pending);
  auto by_bob = f.rt().decide(id, "bob", "respond", R"({"text": "managers"})");
  REQUIRE(by_bob);  // the gateway cannot know better: the run does not answer
  REQUIRE(request_row(f, id).outcome);
  CHECK(request_row(f, id).outcome->principals == std::vector<std::string>{"bob"});
  computation.set_value();
  if (run_ends)
    CHECK(f.ended("undurable", 10s).value<std::string>() == "engineers");
  // The next delivery of bob's answer learns from the run which one it
  // took, and the row is corrected to it; bob's attempt stays audited.
  REQUIRE(eventually([&] {
    auto r = request_row(f, id);
    return r.outcome && r.outcome->principals == std::vector<std::string>{"ann"};
  }));
  if (!run_ends) {
    CHECK(f.events<run_finished_event>("undurable").empty());  // corrected while it lives
    REQUIRE(f.rt().signal("undurable", "finish", 1));
    auto out = f.ended("undurable", 10s);
    INFO(to_string(out.status) << ": " << out.error);
    CHECK(out.value<std::string>() == "engineers");
  }
  auto row = request_row(f, id);
  CHECK(row.delivered);
  CHECK(row.outcome->text == "engineers");
  CHECK(attempts_by(row, "bob") == 1);
  CHECK(std::any_of(row.audit.begin(), row.audit.end(), [](const gateway::audit_entry& e) {
    return e.action == "corrected" && e.outcome.find("respond by bob was not applied")
                                        != std::string::npos;
  }));
  auto signals = f.events<signal_received_event>("undurable");
  CHECK(std::count_if(signals.begin(), signals.end(), [&](const signal_received_event& e) {
          return e.request_id == gateway::delivery_id(id);
        }) == 1);
  CHECK(index_problems(f.rt().store()).empty());
}
