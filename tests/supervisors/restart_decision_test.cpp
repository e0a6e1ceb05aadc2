// The pure restart decision, for every strategy x restart type x exit kind,
// plus the intensity window and the backoff. No actor system here.
#include "endure/supervisors/backoff.hpp"
#include "endure/supervisors/intensity_window.hpp"
#include "endure/supervisors/restart_decision.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace endure;
using idx = std::vector<std::size_t>;
using std::chrono::milliseconds;

TEST_CASE("supervisors: which restart types restart after which exits",
          "[supervisors][decision]") {
  CHECK(should_restart(restart_type::permanent, exit_kind::normal));
  CHECK(should_restart(restart_type::permanent, exit_kind::shutdown));
  CHECK(should_restart(restart_type::permanent, exit_kind::abnormal));
  CHECK_FALSE(should_restart(restart_type::transient, exit_kind::normal));
  CHECK_FALSE(should_restart(restart_type::transient, exit_kind::shutdown));
  CHECK(should_restart(restart_type::transient, exit_kind::abnormal));
  CHECK_FALSE(should_restart(restart_type::temporary, exit_kind::normal));
  CHECK_FALSE(should_restart(restart_type::temporary, exit_kind::shutdown));
  CHECK_FALSE(should_restart(restart_type::temporary, exit_kind::abnormal));
}

SCENARIO("supervisors: child 1 of four exits", "[supervisors][decision]") {
  auto strategy = GENERATE(restart_strategy::one_for_one,
                           restart_strategy::one_for_all,
                           restart_strategy::rest_for_one);
  auto type = GENERATE(restart_type::permanent, restart_type::transient,
                       restart_type::temporary);
  auto kind = GENERATE(exit_kind::normal, exit_kind::shutdown,
                       exit_kind::abnormal);
  // Siblings: 0 permanent, 2 temporary, 3 transient.
  std::vector<restart_type> types{restart_type::permanent, type,
                                  restart_type::temporary,
                                  restart_type::transient};
  CAPTURE(static_cast<int>(strategy), static_cast<int>(type),
          static_cast<int>(kind));
  auto plan = decide_restart(strategy, types, 1, kind);
  CHECK(plan.remove_exited == (type == restart_type::temporary));
  if (!should_restart(type, kind)) {
    THEN("nothing is stopped or restarted") {
      CHECK(plan.action == restart_action::none);
      CHECK(plan.to_stop.empty());
      CHECK(plan.to_restart.empty());
    }
    return;
  }
  REQUIRE(plan.action == restart_action::restart);
  switch (strategy) {
    case restart_strategy::one_for_one:
      CHECK(plan.to_stop == idx{});
      CHECK(plan.to_restart == idx{1});
      break;
    case restart_strategy::one_for_all:
      // Reverse order stop; the temporary sibling is stopped, not restarted.
      CHECK(plan.to_stop == idx{3, 2, 0});
      CHECK(plan.to_restart == idx{0, 1, 3});
      break;
    case restart_strategy::rest_for_one:
      CHECK(plan.to_stop == idx{3, 2});
      CHECK(plan.to_restart == idx{1, 3});
      break;
  }
}

TEST_CASE("supervisors: rest_for_one at the ends", "[supervisors][decision]") {
  std::vector<restart_type> types(3, restart_type::permanent);
  auto last = decide_restart(restart_strategy::rest_for_one, types, 2,
                             exit_kind::abnormal);
  CHECK(last.to_stop == idx{});
  CHECK(last.to_restart == idx{2});
  auto first = decide_restart(restart_strategy::rest_for_one, types, 0,
                              exit_kind::abnormal);
  CHECK(first.to_stop == idx{2, 1});
  CHECK(first.to_restart == idx{0, 1, 2});
}

TEST_CASE("supervisors: intensity turns a restart into escalate", "[supervisors][decision]") {
  std::vector<restart_type> types(2, restart_type::permanent);
  intensity_window window{1, milliseconds{1000}};
  std::chrono::steady_clock::time_point t{std::chrono::hours(1)};
  auto plan = [&] {
    return decide_restart(restart_strategy::one_for_one, types, 0,
                          exit_kind::abnormal);
  };
  CHECK(apply_intensity(plan(), window, t).action == restart_action::restart);
  CHECK(apply_intensity(plan(), window, t + milliseconds{10}).action
        == restart_action::escalate);
  SECTION("a plan that restarts nothing is not charged") {
    intensity_window fresh{0, milliseconds{1000}};
    auto none = decide_restart(restart_strategy::one_for_all, types, 0,
                               exit_kind::normal);
    none.action = restart_action::none;
    CHECK(apply_intensity(none, fresh, t).action == restart_action::none);
    CHECK(fresh.count(t) == 0);
  }
}

TEST_CASE("supervisors: the intensity window slides", "[supervisors][intensity]") {
  std::chrono::steady_clock::time_point t0{std::chrono::hours(1)};
  SECTION("intensity 0: the first restart already exceeds it") {
    intensity_window w{0, milliseconds{5000}};
    CHECK(w.record(t0));
  }
  SECTION("3 in 5 s: the fourth inside the period exceeds") {
    intensity_window w{3, milliseconds{5000}};
    CHECK_FALSE(w.record(t0));
    CHECK_FALSE(w.record(t0 + milliseconds{1000}));
    CHECK_FALSE(w.record(t0 + milliseconds{2000}));
    CHECK(w.count(t0 + milliseconds{2000}) == 3);
    CHECK(w.record(t0 + milliseconds{4999}));
  }
  SECTION("restarts older than the period fall out") {
    intensity_window w{2, milliseconds{5000}};
    CHECK_FALSE(w.record(t0));
    CHECK_FALSE(w.record(t0 + milliseconds{1000}));
    // t0 is exactly one period old: outside (now - period, now].
    CHECK_FALSE(w.record(t0 + milliseconds{5000}));
    CHECK(w.count(t0 + milliseconds{5000}) == 2);
    CHECK(w.count(t0 + milliseconds{20000}) == 0);
    CHECK_FALSE(w.record(t0 + milliseconds{20000}));
  }
}

TEST_CASE("supervisors: backoff grows, caps and jitters", "[supervisors][backoff]") {
  backoff_policy p;
  p.initial = milliseconds{100};
  p.max = milliseconds{1000};
  p.multiplier = 2.0;
  p.jitter = 0.0;
  CHECK(backoff_delay(p, 0, 0.7) == milliseconds{100});
  CHECK(backoff_delay(p, 1, 0.7) == milliseconds{200});
  CHECK(backoff_delay(p, 3, 0.7) == milliseconds{800});
  CHECK(backoff_delay(p, 4, 0.7) == milliseconds{1000});
  CHECK(backoff_delay(p, 100000, 0.7) == milliseconds{1000});
  p.jitter = 0.5;
  CHECK(backoff_delay(p, 0, 0.0) == milliseconds{100});
  CHECK(backoff_delay(p, 0, 1.0) == milliseconds{50});
  CHECK(backoff_delay(p, 4, 0.5) == milliseconds{750});
  p.initial = milliseconds{0};
  CHECK(backoff_delay(p, 5, 0.3) == milliseconds{0});
}
