// The runtime as an actor service (service/protocol.hpp): event-based
// actors start, signal, wait for and watch runs with request(...).then(...)
// and never block; every refusal comes back as a value; a request in hand
// while the tree restarts the run supervisor, or while the runtime shuts
// down, is answered; the messages serialize, so they can cross nodes.
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <future>
#include <mutex>
#include <vector>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/service/protocol.hpp"
#include "support/actor_ask.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
namespace svc = endure::service;

namespace {

task<int> waits_for_approve(context& ctx, int n) {
  co_await ctx.step("before", [] { return 1; });
  auto v = co_await ctx.wait_signal<int>("approve");
  co_return n + v.value_or(-1000);
}

task<int> trivial(context&, int n) { co_return n; }

task<int> approve_then_finish(context& ctx, int) {
  auto approved = co_await ctx.wait_signal<int>("approve");
  auto finished = co_await ctx.wait_signal<int>("finish");
  co_return approved.value_or(-1000) + finished.value_or(-1000);
}

void workflows(workflow_registry& r) {
  r.add("waits_for_approve", &waits_for_approve);
  r.add("trivial", &trivial);
  r.add("approve_then_finish", &approve_then_finish);
}

/// What the service actor below saw, handed to the test thread once.
struct service_report {
  std::string failure;  ///< the first error, with the request it answered
  run_status started_as = run_status::running;
  run_outcome outcome;
  std::vector<run_changed> runs;
  std::vector<step_changed> steps;
};

bool is_ended(run_status s) {
  return s == run_status::completed || s == run_status::failed || s == run_status::cancelled;
}

/// A service of the kind a user writes: subscribes, starts run `id`,
/// approves it once started, waits for its end, then reports. Only
/// request(...).then(...) and messages: no blocking call.
void approving_service(caf::event_based_actor* self, caf::actor rt, std::string id,
                       std::shared_ptr<std::promise<service_report>> done) {
  auto report = std::make_shared<service_report>();
  auto fail = [=](const std::string& what) {
    return [=](const caf::error& e) {
      report->failure = svc::error_of(e, what).to_string();
      done->set_value(*report);
      self->quit();
    };
  };
  // Reports once it has both the wait's answer and the run's completion
  // event: the feed publishes that event on its own path, which may trail
  // the answer.
  auto have_outcome = std::make_shared<bool>(false);
  auto finish_when_both = [=] {
    if (!*have_outcome || report->runs.empty() || !is_ended(report->runs.back().status))
      return;
    self->request(rt, caf::infinite, svc::unsubscribe_atom::value, caf::actor{self})
      .then([=](caf::ok_atom) {
        done->set_value(*report);
        self->quit();
      }, fail("unsubscribe"));
  };
  self->set_default_handler(caf::drop);
  self->become(
    [=](svc::event_atom, const run_changed& e) {
      if (e.run != id)
        return;
      report->runs.push_back(e);
      if (is_ended(e.status))
        finish_when_both();
    },
    [=](svc::event_atom, const step_changed& e) {
      if (e.run == id)
        report->steps.push_back(e);
    },
    [=](svc::event_atom, const request_changed&) {});
  self->request(rt, caf::infinite, svc::subscribe_atom::value, caf::actor{self}, true)
    .then([=](caf::ok_atom) {
      self->request(rt, caf::infinite, svc::start_atom::value, "waits_for_approve", id, to_bytes(40))
        .then([=](const run_meta& run) {
          report->started_as = run.status;
          self->request(rt, caf::infinite, svc::signal_atom::value, id, "approve", to_bytes(2))
            .then([=](caf::ok_atom) {
              self->request(rt, caf::infinite, svc::wait_atom::value, id, std::int64_t{10'000})
                .then([=](run_outcome& out) {
                  report->outcome = std::move(out);
                  *have_outcome = true;
                  finish_when_both();
                }, fail("wait"));
            }, fail("signal"));
        }, fail("start"));
    }, fail("subscribe"));
}

/// Asks for run `id`'s outcome from an event-based actor, as a service
/// would; the answer (or the error) arrives in the future.
std::future<expected<run_outcome>> wait_by_message(runtime_fixture& f, const std::string& id,
                                                   std::int64_t timeout_ms) {
  auto result = std::make_shared<std::promise<expected<run_outcome>>>();
  auto answer = result->get_future();
  f.sys().spawn([=, rt = f.rt().handle()](caf::event_based_actor* self) {
    self->request(rt, caf::infinite, svc::wait_atom::value, id, timeout_ms)
      .then([=](run_outcome& o) { result->set_value(std::move(o)); },
            [=](const caf::error& e) { result->set_value(svc::error_of(e, "wait")); });
  });
  return answer;
}

} // namespace

SCENARIO("an event-based service starts a run and approves it and learns its outcome by message",
         "[service]") {
  runtime_fixture f{workflows};
  auto done = std::make_shared<std::promise<service_report>>();
  auto answer = done->get_future();
  f.sys().spawn(approving_service, f.rt().handle(), "order-1", done);
  REQUIRE(answer.wait_for(20s) == std::future_status::ready);
  auto report = answer.get();
  INFO(report.failure);
  REQUIRE(report.failure.empty());
  CHECK((report.started_as == run_status::running || report.started_as == run_status::waiting));
  REQUIRE(report.outcome.status == run_status::completed);
  CHECK(report.outcome.value<int>() == 42);
  // The events it watched: the run waited, then completed; its step "before"
  // completed.
  REQUIRE_FALSE(report.runs.empty());
  CHECK(report.runs.back().status == run_status::completed);
  CHECK(report.runs.back().workflow == "waits_for_approve");
  bool waited = false;
  for (auto& e : report.runs)
    waited = waited || e.status == run_status::waiting;
  CHECK(waited);
  bool before_done = false;
  for (auto& e : report.steps)
    before_done = before_done || (e.name == "before" && e.outcome == step_outcome::completed);
  CHECK(before_done);
}

SCENARIO("the handle answers every refusal with endure's error code and a message",
         "[service]") {
  runtime_fixture f{workflows};
  auto& sys = f.sys();
  auto rt = f.rt().handle();
  auto no_workflow = ask<run_meta>(sys, rt, svc::start_atom::value, "nope", "r1", to_bytes(1));
  REQUIRE_FALSE(no_workflow);
  CHECK(no_workflow.error().code == errc::not_found);
  CHECK_THAT(no_workflow.error().message, Catch::Contains("no workflow named 'nope'"));
  auto bad_id = ask<run_meta>(sys, rt, svc::start_atom::value, "trivial", "", to_bytes(1));
  REQUIRE_FALSE(bad_id);
  CHECK(bad_id.error().code == errc::invalid_argument);
  auto unknown = ask<run_meta>(sys, rt, svc::status_atom::value, "missing");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == errc::not_found);
  auto signal_unknown = ask<caf::ok_atom>(sys, rt, svc::signal_atom::value, "missing", "go",
                                          to_bytes(1));
  REQUIRE_FALSE(signal_unknown);
  CHECK(signal_unknown.error().code == errc::not_found);
  CHECK(ask<run_usage>(sys, rt, svc::usage_atom::value, "missing").error().code == errc::not_found);

  // A run that waits: a short wait times out and leaves it waiting.
  auto started = ask<run_meta>(sys, rt, svc::start_atom::value, "waits_for_approve", "w1",
                               to_bytes(1));
  REQUIRE(started);
  CHECK(started->id == "w1");
  CHECK(started->workflow == "waits_for_approve");
  REQUIRE(f.await_status("w1", run_status::waiting));
  auto short_wait = ask<run_outcome>(sys, rt, svc::wait_atom::value, "w1", std::int64_t{50});
  REQUIRE_FALSE(short_wait);
  CHECK(short_wait.error().code == errc::timeout);
  auto status = ask<run_meta>(sys, rt, svc::status_atom::value, "w1");
  REQUIRE(status);
  CHECK(status->status == run_status::waiting);
  // Start is idempotent: the same id attaches to the run.
  auto again = ask<run_meta>(sys, rt, svc::start_atom::value, "waits_for_approve", "w1",
                             to_bytes(1));
  REQUIRE(again);
  CHECK(again->created_at_ms == started->created_at_ms);
  // Cancel it; a second cancel of the ended run is refused.
  REQUIRE(ask<caf::ok_atom>(sys, rt, svc::cancel_atom::value, "w1", "test"));
  auto out = ask<run_outcome>(sys, rt, svc::wait_atom::value, "w1", std::int64_t{10'000});
  REQUIRE(out);
  CHECK(out->status == run_status::cancelled);
  auto release = ask<caf::ok_atom>(sys, rt, svc::release_atom::value, "w1", "not quarantined");
  REQUIRE_FALSE(release);
  CHECK(release.error().code == errc::invalid_state);
  auto decide = ask<std::string>(sys, rt, svc::decide_atom::value, "no-such-request", "ann",
                                 "approve", "{}", "test");
  REQUIRE_FALSE(decide);
  CHECK(decide.error().code == errc::not_found);
}

SCENARIO("a wait in hand while the tree restarts the run supervisor still gets the outcome",
         "[service][restart]") {
  // "runs" itself, or the activity workers before it, which the tree
  // (rest_for_one) restarts together with it: the old supervisor then
  // answers its waiters shut_down as it stops.
  for (std::string crashed : {"runs", "activity_workers"}) {
    INFO("killed: " << crashed);
    runtime_fixture f{workflows};
    REQUIRE(f.rt().start("waits_for_approve", "r1", 10));
    REQUIRE(f.await_status("r1", run_status::waiting));
    auto answer = wait_by_message(f, "r1", 20'000);
    // The wait reached the supervisor before it is killed: its answer is
    // the handle's business now.
    REQUIRE(eventually([&] { return f.rt().stats().waits > 0; }));
    auto old_runs = f.tree_child("runs");
    auto old = f.tree_child(crashed);
    REQUIRE(old);
    caf::anon_send_exit(old, caf::exit_reason::kill);
    caf::actor now;
    REQUIRE(eventually([&] { return (now = f.tree_child("runs")) && now != old_runs; }));
    REQUIRE(f.rt().signal("r1", "approve", 5));
    REQUIRE(answer.wait_for(20s) == std::future_status::ready);
    auto out = answer.get();
    INFO((out ? "completed" : out.error().to_string()));
    REQUIRE(out);
    CHECK(out->status == run_status::completed);
    CHECK(out->value<int>() == 15);
  }
}

SCENARIO("a signal sent again with its request id is journaled once", "[service]") {
  runtime_fixture f{workflows};
  auto rt = f.rt().handle();
  REQUIRE(f.rt().start("approve_then_finish", "twice", 0));
  REQUIRE(f.await_status("twice", run_status::waiting));
  for (int i = 0; i < 2; ++i) {
    auto sent = ask<caf::ok_atom>(f.sys(), rt, svc::signal_atom::value, "twice", "approve",
                                  to_bytes(1), std::string{"req-7"});
    INFO("signal " << i << ": " << (sent ? "ok" : sent.error().to_string()));
    REQUIRE(sent);
  }
  REQUIRE(f.rt().signal("twice", "finish", 10));
  CHECK(f.ended("twice", 10s).value<int>() == 11);
  std::size_t approvals = 0;
  for (auto& e : f.events<signal_received_event>("twice"))
    approvals += e.name == "approve";
  CHECK(approvals == 1);
}

SCENARIO("a request in hand when the runtime shuts down is answered shut_down",
         "[service]") {
  runtime_fixture f{workflows};
  auto rt = f.rt().handle();
  REQUIRE(f.rt().start("waits_for_approve", "s1", 1));
  REQUIRE(f.await_status("s1", run_status::waiting));
  auto answer = wait_by_message(f, "s1", 600'000);
  REQUIRE(eventually([&] { return f.rt().stats().waits > 0; }));
  f.stop_runtime();
  REQUIRE(answer.wait_for(10s) == std::future_status::ready);
  auto out = answer.get();
  REQUIRE_FALSE(out);
  CHECK(out.error().code == errc::shut_down);
  // And a request sent after the close is refused, not left hanging.
  auto late = ask<run_meta>(f.sys(), rt, svc::status_atom::value, "s1");
  REQUIRE_FALSE(late);
  CHECK(late.error().code == errc::shut_down);
}

SCENARIO("the handle and the human gateway are found by name",
         "[service]") {
  runtime_fixture f{workflows};
  auto& registry = f.sys().registry();
  auto handle = registry.get(svc::runtime_name);
  REQUIRE(handle);
  CHECK(caf::actor_cast<caf::actor>(handle) == f.rt().handle());
  auto gateway = caf::actor_cast<caf::actor>(registry.get(svc::gateway_name));
  REQUIRE(gateway);
  // The gateway answers its documented messages when reached by name.
  caf::scoped_actor self{f.sys()};
  std::string refusal;
  self->request(gateway, 5s, endure::atoms::decide::value, std::string{"nope"},
                std::string{"ann"}, std::string{"approve"}, std::string{"{}"}, std::string{"test"})
    .receive([](std::string&) {},
             [&](const caf::error& e) { refusal = svc::error_of(e, "decide").to_string(); });
  CHECK_THAT(refusal, Catch::Contains("nope"));
  // The tree restarts the gateway with the run supervisor (rest_for_one):
  // the name then names the new one.
  auto old_runs = f.tree_child("runs");
  REQUIRE(old_runs);
  caf::anon_send_exit(old_runs, caf::exit_reason::kill);
  REQUIRE(eventually([&] {
    auto now = caf::actor_cast<caf::actor>(registry.get(svc::gateway_name));
    return now && now != gateway;
  }));
  gateway = nullptr;
  f.stop_runtime();
  CHECK_FALSE(registry.get(svc::runtime_name));
  CHECK_FALSE(registry.get(svc::gateway_name));
}

SCENARIO("a second runtime in the same actor system leaves the names to the first",
         "[service]") {
  runtime_fixture f{workflows};
  auto& registry = f.sys().registry();
  temp_dir other_dir;
  runtime_options opts;
  opts.journal.data_dir = other_dir.path();
  opts.journal.mode = durability::nosync;
  workflow_registry reg;
  workflows(reg);
  auto second = runtime::open(f.sys(), opts, std::move(reg));
  REQUIRE(second);
  CHECK(caf::actor_cast<caf::actor>(registry.get(svc::runtime_name)) == f.rt().handle());
  auto first_gateway = registry.get(svc::gateway_name);
  second->reset();  // closing the second must not take the first's names
  CHECK(caf::actor_cast<caf::actor>(registry.get(svc::runtime_name)) == f.rt().handle());
  CHECK(registry.get(svc::gateway_name) == first_gateway);
}

SCENARIO("a subscriber that stops ends its subscription", "[service]") {
  runtime_fixture f{workflows};
  auto rt = f.rt().handle();
  REQUIRE_FALSE(f.rt().events().listening());
  auto subscriber = f.sys().spawn([](caf::event_based_actor* self) -> caf::behavior {
    self->set_default_handler(caf::drop);
    return {[](svc::event_atom, const run_changed&) {}};
  });
  REQUIRE(ask<caf::ok_atom>(f.sys(), rt, svc::subscribe_atom::value, subscriber, false));
  CHECK(f.rt().events().listening());
  CHECK_FALSE(f.rt().events().listening(true));  // no step events asked for
  caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
  CHECK(eventually([&] { return !f.rt().events().listening(); }));
}

SCENARIO("the protocol's messages survive the serialization CAF uses between nodes",
         "[service]") {
  caf::actor_system_config cfg;
  svc::add_message_types(cfg);
  caf::actor_system sys{cfg};
  run_usage usage;
  usage.steps.push_back({3, "llm:draft", {120, 30, 0.25, "sim"}});
  usage.prompt_tokens = 120;
  usage.completion_tokens = 30;
  usage.cost_usd = 0.25;
  auto msg = caf::make_message(
    svc::event_atom::value, run_meta{"r", "wf", run_status::quarantined, 1, 2, "why"},
    run_outcome{run_status::completed, std::string{"\x01\x02", 2}, ""}, usage,
    run_changed{"r", "wf", run_status::failed, "boom"},
    step_changed{"r", 7, "fetch", 2, step_outcome::retrying},
    request_changed{"decided", "q1", "r", R"({"by":"ann"})"});
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(msg));
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(back));
  REQUIRE(back.match_elements<svc::event_atom, run_meta, run_outcome, run_usage, run_changed,
                              step_changed, request_changed>());
  CHECK(back.get_as<run_meta>(1) == run_meta{"r", "wf", run_status::quarantined, 1, 2, "why"});
  CHECK(back.get_as<run_outcome>(2).result == std::string{"\x01\x02", 2});
  auto& u = back.get_as<run_usage>(3);
  REQUIRE(u.steps.size() == 1);
  CHECK(u.steps[0].name == "llm:draft");
  CHECK(u.steps[0].usage.model == "sim");
  CHECK(u.cost_usd == 0.25);
  CHECK(back.get_as<run_changed>(4).detail == "boom");
  CHECK(back.get_as<step_changed>(5).outcome == step_outcome::retrying);
  CHECK(back.get_as<request_changed>(6).detail == R"({"by":"ann"})");
}
