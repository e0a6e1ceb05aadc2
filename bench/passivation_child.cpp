// Scale scenarios (see passivation_child.hpp). The main thread drives them;
// the signals go out from 32 plain threads so group commit can fold them.
#include "bench/passivation_child.hpp"

#include <atomic>
#include <cstdio>
#include <latch>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/pipeline_child.hpp"

namespace endure::bench {

namespace {

using namespace std::chrono_literals;

task<int> wait_for_go(context& ctx, int n) {
  auto go = co_await ctx.wait_signal<int>("go");
  co_return n + go.value_or(0);
}

std::string waiter_id(std::size_t i) { return "waiter-" + std::to_string(i); }

} // namespace

void register_wait_for_go(workflow_registry& registry) {
  registry.add("wait_for_go", &wait_for_go);
}

int passivate_runs(runtime& rt, const child_args& a) {
  auto t0 = bench_clock::now();
  std::latch started{static_cast<std::ptrdiff_t>(a.runs)};
  for (std::size_t i = 0; i < a.runs; ++i)
    rt.start_async("wait_for_go", waiter_id(i), to_bytes(static_cast<int>(i)),
                   [&started](expected<run_status>) { started.count_down(); });
  started.wait();
  for (int i = 0; i < 60'000 && rt.stats().live_actors > 0; ++i)
    std::this_thread::sleep_for(10ms);
  double seconds = seconds_since(t0);
  // The resting state: the runtime returns the parked actors' freed heap a
  // second after the burst (runtime_options::trim_heap_after_stops).
  auto at_zero = pss_kib("self");
  std::this_thread::sleep_for(1500ms);
  std::printf("passivate seconds %.3f pss_at_zero_kib %ld pss_kib %ld live %llu\n", seconds,
              at_zero, pss_kib("self"),
              static_cast<unsigned long long>(rt.stats().live_actors));
  std::fflush(stdout);
  std::this_thread::sleep_for(250ms);  // let the parent's sampler see the end state
  return 0;
}

int wake_runs(runtime& rt, const child_args& a, bench_clock::time_point opened) {
  constexpr std::size_t senders = 32;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < senders; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < a.runs; i += senders)
        if (!rt.signal(waiter_id(i), "go", 1))
          ++bad;
    });
  for (auto& th : threads)
    th.join();
  for (std::size_t i = 0; i < a.runs; ++i) {
    auto out = rt.wait(waiter_id(i), 10min);
    if (!out || out->status != run_status::completed
        || out->value<int>() != static_cast<int>(i) + 1)
      ++bad;
  }
  std::printf("wake seconds %.3f bad %d\n", seconds_since(opened), bad.load());
  return bad == 0 ? 0 : 1;
}

} // namespace endure::bench
