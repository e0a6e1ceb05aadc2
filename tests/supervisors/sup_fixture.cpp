// Test support for the supervisor tests.
#include "sup_fixture.hpp"

#include "endure/supervisors/exit_reasons.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>

namespace sup_test {

// -- event_log ---------------------------------------------------------------

void event_log::started(const std::string& id, caf::actor handle) {
  std::lock_guard<std::mutex> guard{mtx_};
  events_.push_back("start:" + id);
  current_[id] = std::move(handle);
  if (observer_)
    caf::anon_send(observer_, started_atom::value, id);
}

void event_log::notify(caf::actor observer) {
  std::lock_guard<std::mutex> guard{mtx_};
  observer_ = std::move(observer);
}

void event_log::stopped(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  events_.push_back("stop:" + id);
}

std::vector<std::string> event_log::events() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return events_;
}

std::vector<std::string> event_log::ids(const std::string& kind) const {
  std::vector<std::string> result;
  auto prefix = kind + ":";
  for (auto& e : events())
    if (e.rfind(prefix, 0) == 0)
      result.push_back(e.substr(prefix.size()));
  return result;
}

std::size_t event_log::count(const std::string& event) const {
  auto all = events();
  return static_cast<std::size_t>(std::count(all.begin(), all.end(), event));
}

caf::actor event_log::current(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = current_.find(id);
  return i == current_.end() ? caf::actor{} : i->second;
}

void event_log::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  events_.clear();
}

// -- workers -----------------------------------------------------------------

namespace {

caf::behavior worker(caf::event_based_actor* self, std::string id, log_ptr log,
                     worker_kind kind) {
  endure::exit_on_exception(self);
  log->started(id, caf::actor{self});
  // The log must not keep the actor alive after it ends.
  self->attach_functor([log, id](const caf::error&) { log->stopped(id); });
  if (kind == worker_kind::stubborn)
    self->set_exit_handler([](caf::exit_msg&) {
      // Ignores every trappable exit; only exit_reason::kill ends it.
    });
  if (kind == worker_kind::crash_looper)
    self->send(self, crash_atom::value);
  return {
    [id](crash_atom) { throw std::runtime_error(id + " crashed"); },
    [self](finish_atom) { self->quit(); },
    [](ping_atom) { return ping_atom::value; },
  };
}

} // namespace

caf::actor spawn_worker(caf::local_actor& sup, const std::string& id,
                        log_ptr log, worker_kind kind) {
  return sup.spawn(worker, id, std::move(log), kind);
}

endure::child_spec worker_spec(const std::string& id, log_ptr log,
                               endure::restart_type restart, worker_kind kind) {
  endure::child_spec spec;
  spec.id = id;
  spec.restart = restart;
  spec.start = [id, log, kind](caf::local_actor& sup) {
    return spawn_worker(sup, id, log, kind);
  };
  return spec;
}

// -- coordinator_fixture -----------------------------------------------------

namespace {

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.inline-output", true);
  return cfg;
}

} // namespace

coordinator_fixture::coordinator_fixture()
  : sys(testing_config(cfg)),
    sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
    self(sys, true) {
  // A non-zero start time, so "now - period" never underflows the epoch.
  sched.clock().current_time += std::chrono::hours(1);
}

coordinator_fixture::~coordinator_fixture() {
  for (auto& a : owned)
    caf::anon_send_exit(a, caf::exit_reason::kill);
  owned.clear();
  run();
}

std::size_t coordinator_fixture::run() {
  return sched.run();
}

void coordinator_fixture::advance(std::chrono::milliseconds d) {
  sched.advance_time(d);
  run();
}

void coordinator_fixture::own(const caf::actor& a) {
  owned.push_back(a);
}

caf::error coordinator_fixture::next_down_reason() {
  caf::error reason;
  bool got = false;
  self->receive(
    [&](caf::down_msg& msg) {
      reason = std::move(msg.reason);
      got = true;
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
  REQUIRE(got);
  return reason;
}

} // namespace sup_test
