// Figure 3 of bench/console (console_streams.hpp).
#include "bench/console_streams.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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
  /// The first asks GET `first`, the others GET `target`.
  open_streams(console_under_test& c, std::size_t n, const std::string& target,
               const std::string& first) {
    for (std::size_t i = 0; i < n; ++i) {
      auto request = test::http_text("GET", i == 0 ? first : target, c.token());
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
  /// Reads what arrives on any stream, with epoll: a client's cost that
  /// does not grow with the number of streams (poll() over 1,000 sockets,
  /// woken once per socket as the server writes them one by one, would
  /// take a good part of a core from the runtime measured on the same
  /// machine; real clients run elsewhere).
  void drain() {
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (auto& p : probes_) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = p->fd();
      ::epoll_ctl(ep, EPOLL_CTL_ADD, p->fd(), &ev);
    }
    std::vector<epoll_event> ready(256);
    std::vector<char> buf(64 * 1024);
    while (!stop_) {
      int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
      for (int i = 0; i < n; ++i) {
        int fd = ready[static_cast<std::size_t>(i)].data.fd;
        auto got = ::recv(fd, buf.data(), buf.size(), 0);
        if (got > 0) {
          bytes_ += static_cast<std::uint64_t>(got);
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          ++dropped_;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        }
      }
    }
    ::close(ep);
  }

  std::vector<std::unique_ptr<test::http_probe>> probes_;
  std::size_t opened_ = 0;
  std::string first_refusal_;
  std::atomic<std::size_t> dropped_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

/// The id of run `i` of step batch `batch`.
std::string run_id(int batch, std::size_t i) {
  return "steps-" + std::to_string(batch) + "-" + std::to_string(i);
}

/// Starts `runs` runs at once, waits for all; steps per second (0 on failure).
/// Each starts after the same quiet spell: a batch that follows the last
/// at once runs some 20% slower (the runtime still ends the last batch's
/// runs), which would bias whichever kind of batch came second.
double step_batch(console_under_test& c, std::size_t runs, int batch, int& bad) {
  std::this_thread::sleep_for(300ms);
  auto t0 = bench_clock::now();
  std::latch started{static_cast<std::ptrdiff_t>(runs)};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < runs; ++i) {
    ids.push_back(run_id(batch, i));
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


/// What the batches with streams open gather.
struct streamed {
  std::vector<double> open_mib, busy_mib;
  std::uint64_t bytes = 0;
};

/// Opens the streams, runs a batch with them, closes them and waits (at
/// most 20 s) until the server has seen every one go, so the next batch
/// runs without them. With `memory`, reads the PSS the streams add before
/// and after the batch; such a batch's throughput is not comparable (a
/// reading returns the heap's free pages, which the batch faults back in).
double streamed_batch(console_under_test& c, std::size_t streams, const std::string& target,
                      std::size_t runs, int batch, bool memory, stream_figures& f,
                      streamed& out) {
  auto connections = c.open_connections();
  auto before = memory ? live_pss_kib() : 0;
  double steps = 0;
  {
    // As with pages open: one of them shows a timeline, of a run of this batch.
    auto follows = target.find('?') == std::string::npos
                     ? target + "?run=" + run_id(batch, 0) : target;
    open_streams s(c, streams, target, follows);
    if (memory)
      out.open_mib.push_back(mib(live_pss_kib() - before));
    steps = step_batch(c, runs, batch, f.bad);
    if (memory)
      out.busy_mib.push_back(mib(live_pss_kib() - before));
    f.opened = std::min(f.opened == 0 ? s.opened() : f.opened, s.opened());
    if (f.refusal.empty())
      f.refusal = s.first_refusal();
    f.dropped += s.dropped();
    out.bytes += s.bytes();
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
                               int batches, const std::string& target) {
  stream_figures f;
  streamed s;
  std::vector<double> without, with;
  static int batch = 0;  // run ids stay new across calls on one runtime
  step_batch(c, runs, batch++, f.bad);  // warm-up: the runtime's pools and the journal
  streamed_batch(c, streams, target, runs, batch++, true, f, s);  // memory only
  // without, with, without, ...: each batch with streams sits between two
  // without, so a drift of the machine (or the journal's growth) hits both.
  without.push_back(step_batch(c, runs, batch++, f.bad));
  for (int k = 0; k < batches; ++k) {
    with.push_back(streamed_batch(c, streams, target, runs, batch++, false, f, s));
    without.push_back(step_batch(c, runs, batch++, f.bad));
  }
  f.steps_without = median(without);
  f.steps_with = median(with);
  f.open_mib = median(s.open_mib);
  f.busy_mib = median(s.busy_mib);
  f.events_mib = static_cast<double>(s.bytes) / (1024.0 * 1024.0);
  return f;
}

} // namespace endure::bench
