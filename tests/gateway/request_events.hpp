// A test subscriber of the human gateway's lifecycle events: an actor that
// records them, and a bounded wait for the one a test expects. Test thread
// plus the actor's thread (the log is locked).
#pragma once

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/atoms.hpp"

namespace endure::test {

struct request_event {
  std::string kind, id, run;
  nlohmann::json detail;
};

class request_events {
public:
  void add(request_event e) {
    {
      std::lock_guard g{m_};
      all_.push_back(std::move(e));
    }
    cv_.notify_all();
  }

  /// The first event of `kind` for run `run` (waiting at most `limit`);
  /// fails the test when none came.
  request_event await(const std::string& kind, const std::string& run,
                      std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    std::unique_lock l{m_};
    request_event found;
    bool ok = cv_.wait_for(l, limit, [&] {
      for (auto& e : all_)
        if (e.kind == kind && e.run == run) {
          found = e;
          return true;
        }
      return false;
    });
    INFO("no '" << kind << "' event for run " << run << " within " << limit.count() << " ms");
    REQUIRE(ok);
    return found;
  }

  /// The kinds of the events of run `run` so far, in arrival order.
  std::vector<std::string> kinds(const std::string& run) {
    std::lock_guard g{m_};
    std::vector<std::string> out;
    for (auto& e : all_)
      if (e.run == run)
        out.push_back(e.kind);
    return out;
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<request_event> all_;
};

/// Subscribes a recording actor to `f`'s gateway; stops it when destroyed
/// (declare it after the fixture: an actor that runs keeps the system up).
class event_subscriber {
public:
  explicit event_subscriber(runtime_fixture& f) {
    auto log = log_;
    actor_ = f.sys().spawn([log](caf::event_based_actor*) -> caf::behavior {
      return {[log](atoms::gw_event, const std::string& kind, const std::string& id,
                    const std::string& run, const std::string& detail) {
        log->add({kind, id, run, nlohmann::json::parse(detail)});
      }};
    });
    REQUIRE(f.rt().subscribe_requests(actor_));
  }
  ~event_subscriber() { caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown); }
  event_subscriber(const event_subscriber&) = delete;
  event_subscriber& operator=(const event_subscriber&) = delete;

  request_events& events() { return *log_; }

private:
  std::shared_ptr<request_events> log_ = std::make_shared<request_events>();
  caf::actor actor_;
};

} // namespace endure::test
