// The dynamic supervisor: children on demand, per-child restart counting,
// and a crash-looping child given up on (reported with its last error)
// while 100 healthy siblings keep running.
#include "sup_fixture.hpp"

#include "endure/supervisors/dynamic_supervisor.hpp"
#include "endure/supervisors/exit_reasons.hpp"

#include <catch2/catch.hpp>

using namespace endure;
using namespace sup_test;
using std::chrono::milliseconds;

namespace {

constexpr int healthy = 100;

std::string run_id(int i) {
  return "run-" + std::to_string(i);
}

dynamic_supervisor_flags crash_flags(milliseconds initial_backoff) {
  dynamic_supervisor_flags flags;
  flags.intensity = 3;
  flags.period = milliseconds{60'000};
  flags.backoff = {initial_backoff, milliseconds{1000}, 2.0, 0.0};
  return flags;
}

// Children named "bad" crash as soon as they start; the rest are healthy.
dynamic_child_template worker_template(const log_ptr& log) {
  dynamic_child_template tmpl;
  tmpl.restart = restart_type::transient;
  tmpl.shutdown = shutdown_policy::after(milliseconds{1000});
  tmpl.start = [log](caf::local_actor& sup, const std::string& id) {
    auto kind = id == "bad" ? worker_kind::crash_looper : worker_kind::normal;
    return spawn_worker(sup, id, log, kind);
  };
  return tmpl;
}

void check_report(const give_up_report& report) {
  CHECK(report.id == "bad");
  CHECK(report.message == "child_exception: bad crashed");
  CHECK(is(report.last_reason, sup_errc::child_exception));
  CHECK(report.restarts == 4);
}

} // namespace

TEST_CASE_METHOD(coordinator_fixture,
                 "supervisors: one crash-looping child is given up on, 100 siblings go on",
                 "[supervisors][dynamic]") {
  auto log = std::make_shared<event_log>();
  auto reports = std::make_shared<std::vector<give_up_report>>();
  auto flags = crash_flags(milliseconds{100});
  flags.on_give_up = [reports](const give_up_report& r) { reports->push_back(r); };
  auto dyn = spawn_dynamic_supervisor(sys, flags, worker_template(log));
  REQUIRE(dyn);
  own(*dyn);
  self->monitor(*dyn);
  // Ask, let the supervisor run, take the one reply (a message of one of
  // the protocol's reply types).
  auto ask = [&](auto... xs) {
    self->send(*dyn, xs...);
    run();
    caf::message reply;
    bool got = false;
    auto take = [&](auto&&... ys) {
      reply = caf::make_message(ys...);
      got = true;
    };
    self->receive([&](caf::actor& a) { take(a); },
                  [&](std::uint64_t n) { take(n); },
                  [&](caf::error& err) { take(err); },
                  [&](caf::unit_t) { take(); }, [&]() { take(); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    REQUIRE(got);
    return reply;
  };
  auto count = [&] { return ask(count_atom::value).get_as<std::uint64_t>(0); };
  for (int i = 0; i < healthy; ++i)
    REQUIRE(ask(start_child_atom::value, run_id(i)).match_elements<caf::actor>());
  REQUIRE(ask(start_child_atom::value, std::string{"bad"})
            .match_elements<caf::actor>());
  // "bad" crashed already and waits for its first backoff.
  CHECK(log->count("start:bad") == 1);
  CHECK(count() == healthy + 1);
  // Backoffs 100, 200, 400 ms; bounded: at most 20 simulated seconds.
  for (int i = 0; i < 20 && reports->empty(); ++i)
    advance(milliseconds{1000});
  REQUIRE(reports->size() == 1);
  check_report(reports->front());
  CHECK(log->count("start:bad") == 4);
  CHECK(count() == healthy);
  for (int i = 0; i < healthy; ++i) {
    INFO(run_id(i));
    CHECK(log->count("start:" + run_id(i)) == 1);
    CHECK(log->count("stop:" + run_id(i)) == 0);
    auto reply = ask(find_child_atom::value, run_id(i));
    REQUIRE(reply.match_elements<caf::actor>());
    CHECK(reply.get_as<caf::actor>(0) == log->current(run_id(i)));
  }
  WHEN("the same id is started twice or an unknown id is stopped") {
    auto dup = ask(start_child_atom::value, run_id(0));
    REQUIRE(dup.match_elements<caf::error>());
    CHECK(is(dup.get_as<caf::error>(0), sup_errc::duplicate_child));
    auto unknown = ask(stop_child_atom::value, std::string{"nope"});
    REQUIRE(unknown.match_elements<caf::error>());
    CHECK(is(unknown.get_as<caf::error>(0), sup_errc::unknown_child));
  }
  WHEN("a child is stopped") {
    auto done = ask(stop_child_atom::value, run_id(7));
    CHECK_FALSE(done.match_elements<caf::error>());
    CHECK(log->count("stop:" + run_id(7)) == 1);
    CHECK(count() == healthy - 1);
  }
  WHEN("a child finishes normally (transient): it is dropped, not restarted") {
    caf::anon_send(log->current(run_id(3)), finish_atom::value);
    run();
    CHECK(count() == healthy - 1);
    CHECK(log->count("start:" + run_id(3)) == 1);
  }
  WHEN("a healthy child crashes once, only it restarts") {
    caf::anon_send(log->current(run_id(5)), crash_atom::value);
    run();
    advance(milliseconds{100});
    CHECK(log->count("start:" + run_id(5)) == 2);
    CHECK(count() == healthy);
    CHECK(log->count("stop:" + run_id(6)) == 0);
  }
  WHEN("the parent shuts it down, every child stops, then it exits") {
    self->send_exit(*dyn, caf::exit_reason::user_shutdown);
    run();
    CHECK(log->ids("stop").size() == 4 + healthy); // 4 x bad + 100
    CHECK(next_down_reason() == caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("supervisors: crash-looping child on real threads", "[supervisors][dynamic]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<event_log>();
  caf::scoped_actor self{sys};
  auto flags = crash_flags(milliseconds{1});
  caf::actor listener = self;
  flags.on_give_up = [listener](const give_up_report& r) {
    caf::anon_send(listener, r.id, r.message);
  };
  auto dyn = spawn_dynamic_supervisor(sys, flags, worker_template(log));
  REQUIRE(dyn);
  auto timeout = std::chrono::seconds(10);
  auto start = [&](const std::string& id) {
    bool ok = false;
    self->request(*dyn, timeout, start_child_atom::value, id)
      .receive([&](const caf::actor& a) { ok = static_cast<bool>(a); },
               [&](caf::error& err) { FAIL(describe(err)); });
    return ok;
  };
  for (int i = 0; i < healthy; ++i)
    REQUIRE(start(run_id(i)));
  REQUIRE(start("bad"));
  std::string id, message;
  self->receive(
    [&](const std::string& who, const std::string& what) {
      id = who;
      message = what;
    },
    caf::after(timeout) >> [] { FAIL("no give-up report"); });
  CHECK(id == "bad");
  CHECK(message == "child_exception: bad crashed");
  std::uint64_t n = 0;
  self->request(*dyn, timeout, count_atom::value)
    .receive([&](std::uint64_t x) { n = x; },
             [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(n == healthy);
  for (int i = 0; i < healthy; ++i) {
    bool pong = false;
    self->request(log->current(run_id(i)), timeout, ping_atom::value)
      .receive([&](ping_atom) { pong = true; }, [&](caf::error&) {});
    CHECK(pong);
  }
  // Every child and then the supervisor itself go down on shutdown.
  for (int i = 0; i < healthy; ++i)
    self->monitor(log->current(run_id(i)));
  self->monitor(*dyn);
  self->send_exit(*dyn, caf::exit_reason::user_shutdown);
  int children_down = 0;
  bool dyn_down = false;
  for (int i = 0; i < healthy + 1; ++i)
    self->receive(
      [&](caf::down_msg& msg) {
        if (msg.source == dyn->address())
          dyn_down = true;
        else if (msg.reason == caf::exit_reason::user_shutdown)
          ++children_down;
      },
      caf::after(timeout) >> [] {});
  CHECK(children_down == healthy);
  CHECK(dyn_down);
}
