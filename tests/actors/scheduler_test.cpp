// The scheduler apply_recommended_settings installs (work sharing with one
// polling worker, actors/detail/spinning_sharing.hpp) must never lose a
// wake-up: every message is handled whether it arrives while a worker
// polls, while all sleep, or from a thread outside CAF.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "endure/actors/system_settings.hpp"

using namespace std::chrono_literals;

namespace {

caf::behavior echo() {
  return {[](int x) { return x + 1; }};
}

/// Bounces `n` between two actors `rounds` times, then tells `done`.
caf::behavior bouncer(caf::event_based_actor* self, caf::actor done) {
  return {[=](int n, const caf::actor& peer) {
    if (n == 0) {
      self->send(done, true);
      return;
    }
    self->send(peer, n - 1, caf::actor_cast<caf::actor>(self));
  }};
}

/// From `threads` plain threads, `per_thread` requests each with pauses
/// that let the workers poll, then sleep; returns how many were answered.
int requests_from_outside(caf::actor_system& sys, int threads, int per_thread) {
  auto target = sys.spawn(echo);
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t)
    senders.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::uniform_int_distribution<int> pause_us{0, 400};
      caf::scoped_actor self{sys};
      for (int i = 0; i < per_thread; ++i) {
        if (i % 4 == 0)
          std::this_thread::sleep_for(std::chrono::microseconds{pause_us(rng)});
        self->request(target, 5s, i).receive([&](int r) { answered += r == i + 1; },
                                             [](caf::error&) {});
      }
    });
  for (auto& s : senders)
    s.join();
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  return answered;
}

void check_scheduler(std::chrono::microseconds spin) {
  caf::actor_system_config cfg;
  endure::apply_recommended_settings(cfg, spin);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};

  CHECK(requests_from_outside(sys, 3, 1500) == 3 * 1500);

  // Actor to actor (internal enqueues), many pairs at once.
  caf::scoped_actor waiter{sys};
  constexpr int pairs = 50;
  for (int p = 0; p < pairs; ++p) {
    auto a = sys.spawn(bouncer, caf::actor{waiter});
    auto b = sys.spawn(bouncer, caf::actor{waiter});
    caf::anon_send(a, 200, b);
  }
  int done = 0;
  for (int p = 0; p < pairs; ++p)
    waiter->receive([&](bool) { ++done; }, caf::after(10s) >> [] {});
  CHECK(done == pairs);
}

} // namespace

TEST_CASE("the recommended scheduler answers every message", "[scheduler]") {
  SECTION("one worker polls for 50 us") { check_scheduler(50us); }
  SECTION("polling turned off") { check_scheduler(0us); }
  SECTION("a long poll") { check_scheduler(2000us); }
}

TEST_CASE("the recommended settings run one worker per core unless the program chose",
          "[scheduler]") {
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  {
    caf::actor_system_config cfg;
    endure::apply_recommended_settings(cfg);
    caf::actor_system sys{cfg};
    CHECK(sys.scheduler().num_workers() == cores);
  }
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 3);
    endure::apply_recommended_settings(cfg);
    caf::actor_system sys{cfg};
    CHECK(sys.scheduler().num_workers() == 3);
  }
}
