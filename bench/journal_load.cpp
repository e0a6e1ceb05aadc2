// Drives the journal for the benchmark (see journal_load.hpp). The feeder
// thread stands in for the actors that will, in the runtime, receive a
// completion message and build their next batch on their own thread.
#include "bench/journal_load.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"

namespace endure::bench {

namespace {

constexpr std::uint16_t bench_tag = 4242;  // opaque to the writer

std::unique_ptr<journal> open_journal(const std::string& dir, durability mode) {
  journal_options opts;
  opts.data_dir = dir;
  opts.mode = mode;
  opts.initial_map_size = bench_map_size;
  auto j = journal::open(opts);
  if (!j)
    throw std::runtime_error("journal: " + j.error().to_string());
  return std::move(*j);
}

/// Creates runs 0..count-1 in one batch.
void create_runs(journal& j, int count) {
  write_batch batch;
  for (int i = 0; i < count; ++i)
    batch.create_run(run_meta{run_id(i), "bench", run_status::running, 0, 0, {}});
  if (auto ok = j.commit(std::move(batch)); !ok)
    throw std::runtime_error("journal: create runs: " + ok.error().to_string());
}

write_batch one_append(const std::string& run, std::uint64_t seq) {
  write_batch batch;
  batch.append(run, seq, record{bench_tag, 1, payload()});
  return batch;
}

load_stats minus(const journal_stats& after, const journal_stats& before) {
  return {after.commits - before.commits, after.batches - before.batches,
          after.failed_batches - before.failed_batches};
}

/// C appenders with one append in flight each; see journal_appenders().
class appender_load {
public:
  appender_load(journal& j, int appenders, int appends_each, bool inline_commit)
    : journal_(j), appends_each_(appends_each), inline_(inline_commit),
      issued_(static_cast<std::size_t>(appenders), 0),
      remaining_(static_cast<long>(appenders) * appends_each) {
    for (int i = 0; i < appenders; ++i)
      runs_.push_back(run_id(i));
  }

  /// Runs the load to the end; returns wall seconds.
  double run() {
    std::thread feeder{[this] { feeder_loop(); }};
    auto start = bench_clock::now();
    for (std::size_t i = 0; i < runs_.size(); ++i)
      hand_to_feeder(i);
    std::unique_lock guard{mutex_};
    done_cv_.wait(guard, [this] { return finished_; });
    double wall = seconds_since(start);
    guard.unlock();
    feeder.join();
    return wall;
  }

private:
  /// Builds appender `i`'s next batch and commits it asynchronously.
  void issue(std::size_t i) {
    auto seq = ++issued_[i];
    journal_.commit(one_append(runs_[i], seq),
                    [this, i](const expected<void>& r) { on_done(i, r); });
  }

  /// Completion, on the writer thread: keep it as cheap as a message send.
  /// A failed append still counts as done (journal_stats.failed_batches
  /// reports it); throwing here would end the process on the writer thread.
  void on_done(std::size_t i, const expected<void>& r) {
    (void)r;
    if (remaining_.fetch_sub(1) == 1)
      return finish();
    if (issued_[i] == static_cast<std::uint64_t>(appends_each_))
      return;
    if (inline_)
      return issue(i);
    hand_to_feeder(i);
  }

  void hand_to_feeder(std::size_t i) {
    std::unique_lock guard{mutex_};
    bool was_empty = ready_.empty();
    ready_.push_back(i);
    guard.unlock();
    if (was_empty)  // the feeder only sleeps on an empty queue
      feeder_cv_.notify_one();
  }

  void finish() {
    std::lock_guard guard{mutex_};
    finished_ = true;
    feeder_cv_.notify_one();
    done_cv_.notify_one();
  }

  void feeder_loop() {
    std::vector<std::size_t> work;
    for (;;) {
      {
        std::unique_lock guard{mutex_};
        feeder_cv_.wait(guard, [this] { return finished_ || !ready_.empty(); });
        if (finished_)
          return;
        work.swap(ready_);
      }
      for (auto i : work)
        issue(i);
      work.clear();
    }
  }

  journal& journal_;
  const int appends_each_;
  const bool inline_;
  std::vector<std::string> runs_;
  /// Appends issued per appender; one in flight at a time, so the journal's
  /// queue mutex orders every access.
  std::vector<std::uint64_t> issued_;
  std::atomic<long> remaining_;
  std::mutex mutex_;
  std::condition_variable feeder_cv_;
  std::condition_variable done_cv_;
  std::vector<std::size_t> ready_;
  bool finished_ = false;
};

} // namespace

latency_sample journal_commit_latency(const std::string& dir, durability mode,
                                      int commits, load_stats& stats) {
  auto j = open_journal(dir, mode);
  create_runs(*j, 1);
  auto run = run_id(0);
  auto before = j->stats();
  latency_sample out;
  out.micros.reserve(static_cast<std::size_t>(commits));
  auto start = bench_clock::now();
  for (int i = 1; i <= commits; ++i) {
    auto batch = one_append(run, static_cast<std::uint64_t>(i));
    auto t0 = bench_clock::now();
    if (auto ok = j->commit(std::move(batch)); !ok)
      throw std::runtime_error("journal: append: " + ok.error().to_string());
    out.micros.push_back(seconds_since(t0) * 1e6);
  }
  out.wall_seconds = seconds_since(start);
  stats = minus(j->stats(), before);
  return out;
}

double journal_appenders(const std::string& dir, durability mode, int appenders,
                         int appends_each, bool inline_commit, load_stats& stats) {
  auto j = open_journal(dir, mode);
  create_runs(*j, appenders);
  auto before = j->stats();
  appender_load load{*j, appenders, appends_each, inline_commit};
  double wall = load.run();
  stats = minus(j->stats(), before);
  return static_cast<double>(appenders) * appends_each / wall;
}

} // namespace endure::bench
