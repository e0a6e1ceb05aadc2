// Figure 3 of bench/console (console_streams.hpp).
#include "bench/console_streams.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "console/http_probe.hpp"
#include "endure/actors/heap_trim.hpp"

namespace endure::bench {

namespace {

using namespace std::chrono_literals;

/// `n` event streams, read and discarded by one thread until closed.
class open_streams {
public:
  open_streams(console_under_test& c, std::size_t n) {
    auto request = test::http_text("GET", "/api/v1/events", c.token());
    for (std::size_t i = 0; i < n; ++i) {
      probes_.push_back(std::make_unique<test::http_probe>(c.port()));
      probes_.back()->send(request);
      auto head = probes_.back()->read_head(10s);
      opened_ += head.status == 200;
      if (head.status != 200 && first_refusal_.empty()) {  // ask again for the whole answer
        test::http_probe again(c.port());
        again.send(request);
        auto r = again.read(10s);
        first_refusal_ = std::to_string(r.status) + " " + r.body;
      }
    }
    reader_ = std::thread([this] { drain(); });
  }
  ~open_streams() {
    stop_ = true;
    reader_.join();
  }
  std::size_t opened() const { return opened_; }
  /// The first answer that was not 200 ("0" if the connection closed).
  const std::string& first_refusal() const { return first_refusal_; }
  std::size_t dropped() const { return dropped_; }
  std::uint64_t bytes() const { return bytes_; }

private:
  void drain() {
    std::vector<pollfd> fds;
    for (auto& p : probes_)
      fds.push_back({p->fd(), POLLIN, 0});
    std::vector<char> buf(64 * 1024);
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 100) <= 0)
        continue;
      for (auto& f : fds) {
        if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR)))
          continue;
        auto got = ::recv(f.fd, buf.data(), buf.size(), 0);
        if (got > 0) {
          bytes_ += static_cast<std::uint64_t>(got);
        } else {
          ++dropped_;
          f.fd = -1;  // poll ignores it from now on
        }
      }
    }
  }

  std::vector<std::unique_ptr<test::http_probe>> probes_;
  std::size_t opened_ = 0;
  std::string first_refusal_;
  std::atomic<std::size_t> dropped_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

/// Starts `runs` runs at once, waits for all; steps per second (0 on failure).
double step_batch(console_under_test& c, std::size_t runs, int batch, int& bad) {
  auto t0 = bench_clock::now();
  std::latch started{static_cast<std::ptrdiff_t>(runs)};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < runs; ++i) {
    ids.push_back("steps-" + std::to_string(batch) + "-" + std::to_string(i));
    c.rt().start_async(steps_workflow, ids.back(), to_bytes(static_cast<int>(i)),
                       [&started](expected<run_status>) { started.count_down(); });
  }
  started.wait();
  for (auto& id : ids) {
    auto end = c.rt().wait(id, 60s);
    if (!end || end->status != run_status::completed) {
      ++bad;
      return 0;
    }
  }
  return static_cast<double>(runs * steps_per_run) / seconds_since(t0);
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

/// PSS with the heap's free pages returned first, so two readings differ
/// by what is live, not by what the allocator happens to keep.
long live_pss_kib() {
  release_free_heap();
  return pss_kib("self");
}


/// Opens the streams, runs a batch with them, closes them and waits (at
/// most 20 s) until the server has seen every one go, so the next batch
/// runs without them.
double streamed_batch(console_under_test& c, std::size_t streams, std::size_t runs, int batch,
                      stream_figures& f, std::vector<double>& open_mib,
                      std::vector<double>& busy_mib, std::uint64_t& bytes) {
  auto connections = c.open_connections();
  auto before = live_pss_kib();
  double steps = 0;
  {
    open_streams s(c, streams);
    open_mib.push_back(mib(live_pss_kib() - before));
    steps = step_batch(c, runs, batch, f.bad);
    busy_mib.push_back(mib(live_pss_kib() - before));
    f.opened = std::min(f.opened == 0 ? s.opened() : f.opened, s.opened());
    if (f.refusal.empty())
      f.refusal = s.first_refusal();
    f.dropped += s.dropped();
    bytes += s.bytes();
  }
  auto until = bench_clock::now() + 20s;
  while (c.open_connections() > connections && bench_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  if (c.open_connections() > connections)
    ++f.bad;
  return steps;
}

} // namespace

stream_figures measure_streams(console_under_test& c, std::size_t streams, std::size_t runs,
                               int batches) {
  stream_figures f;
  std::vector<double> without, with, open_mib, busy_mib;
  std::uint64_t bytes = 0;
  int batch = 0;
  step_batch(c, runs, batch++, f.bad);  // warm-up: the runtime's pools and the journal
  // without, with, without, ...: each batch with streams sits between two
  // without, so a drift of the machine (or the journal's growth) hits both.
  without.push_back(step_batch(c, runs, batch++, f.bad));
  for (int k = 0; k < batches; ++k) {
    with.push_back(streamed_batch(c, streams, runs, batch++, f, open_mib, busy_mib, bytes));
    without.push_back(step_batch(c, runs, batch++, f.bad));
  }
  f.steps_without = median(without);
  f.steps_with = median(with);
  f.open_mib = median(open_mib);
  f.busy_mib = median(busy_mib);
  f.events_mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  return f;
}

} // namespace endure::bench
