// The seed pipeline: SHA-256 (net/sha256.hpp), one O_APPEND write per executed
// step body (no fsync: a kill -9 of the process does not lose it).
#include "endure/cli/seed_pipeline.hpp"

#include "endure/net/sha256.hpp"

#include <unistd.h>

#include <atomic>

namespace endure::cli {

namespace {

std::atomic<int> counter_fd{-1};
std::atomic<step_observer> observer{nullptr};

void count_execution(const std::string& run_id, int k) {
  if (auto observe = observer.load())
    observe(run_id, k);
  int fd = counter_fd.load();
  if (fd < 0)
    return;
  auto line = run_id + " " + std::to_string(k) + "\n";
  if (::write(fd, line.data(), line.size()) < 0)
    throw retryable_error("cannot write the counter file");
}

} // namespace


std::string seed_value(const std::string& run_id) {
  auto v = "seed:" + run_id + ":";
  v.resize(200, '.');
  return v;
}

std::string seed_step(const std::string& run_id, int k, const std::string& prev) {
  return net::sha256_hex(run_id + "|" + std::to_string(k) + "|" + prev) + prev.substr(0, 136);
}

std::string seed_expected(const std::string& run_id) {
  auto v = seed_value(run_id);
  for (int k = 1; k <= 20; ++k)
    v = seed_step(run_id, k, v);
  return v;
}

void set_counter_fd(int fd) { counter_fd = fd; }

void set_step_observer(step_observer o) { observer = o; }

namespace {

task<std::string> seed_run(context& ctx, std::string run_id, bool inline_steps) {
  auto v = seed_value(run_id);
  for (int k = 1; k <= 20; ++k) {
    // The step function is a named local, not a temporary inside the
    // co_await expression: g++ 12 mis-copies non-trivial temporaries that
    // live across a suspension (see README, "Writing workflows").
    auto body = [run_id, k](const std::string& prev) {
      count_execution(run_id, k);
      return seed_step(run_id, k, prev);
    };
    // The awaiter stays a temporary of the co_await: a named one awaited
    // through std::move in a conditional ran its step with an empty
    // request under g++ 12.
    if (inline_steps)
      v = co_await ctx.step("step" + std::to_string(k), body, v).run_inline();
    else
      v = co_await ctx.step("step" + std::to_string(k), body, v);
  }
  co_return v;
}

} // namespace

task<std::string> seed_pipeline(context& ctx, std::string run_id) {
  // run_inline: the body takes microseconds, so it runs on the run's own
  // thread (no hand-off to an activity worker).
  return seed_run(ctx, std::move(run_id), true);
}

task<std::string> seed_pipeline_pooled(context& ctx, std::string run_id) {
  return seed_run(ctx, std::move(run_id), false);
}

void register_seed_pipeline(workflow_registry& registry) {
  registry.add("seed_pipeline", &seed_pipeline);
  registry.add("seed_pipeline_pooled", &seed_pipeline_pooled);
}

} // namespace endure::cli
