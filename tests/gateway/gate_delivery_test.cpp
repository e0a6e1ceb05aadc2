// How a person's decision reaches its gated run, end to end over a real
// runtime and LMDB: in the commit that stores it; replayed the way an
// earlier build journaled it; refused when the row binds other arguments;
// and when the run, the gateway's own store or the gateway itself fails in
// between (late commits, kept decisions, a restarted gateway), the row
// ends naming the decision the run acted on.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_msgpack.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/persistence/journal.hpp"
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
