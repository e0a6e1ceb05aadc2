// event_hub (event_stream.hpp): the feed's callback queues events; the pump
// thread batches, coalesces and serializes them and hands each batch to
// every stream; the server's io thread takes a stream's batches and
// writes them. Locks: `queue_mutex` (callback and pump only) and `mutex`
// (the streams, their backlogs and the subscription); the pump never holds
// both, and a callback never takes `mutex`, so unsubscribing under `mutex`
// (which waits for callbacks in flight) cannot deadlock.
#include "endure/net/console/event_stream.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "endure/actors/run_event_feed.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/detail/event_batch.hpp"
#include "endure/net/console/response_stream.hpp"

namespace endure::console {

namespace {

const auto retry_bytes = std::make_shared<const std::string>("retry: 2000\n\n");
const auto keep_alive_bytes = std::make_shared<const std::string>(": keep-alive\n\n");

} // namespace

class sse_stream;

struct event_hub::core {
  explicit core(event_stream_options o) : options(o) {}

  const event_stream_options options;

  // -- the feed's side (callback and pump) ------------------------------------------
  std::mutex queue_mutex;
  std::condition_variable queue_ready;
  std::vector<feed_event> queue;
  bool overflowed = false;  ///< more than max_queued waited: drop every stream
  bool stopping = false;

  // -- the streams' side --------------------------------------------------------------
  mutable std::mutex mutex;
  std::vector<sse_stream*> streams;  ///< registered: open, not ended, not closed
  run_event_feed* feed = nullptr;
  run_event_feed::subscription subscription;  ///< held while a stream is registered
  /// What the registered streams ask of step events: how many want all,
  /// and the runs they follow (?run=ID, once per stream). The subscription
  /// asks the feed for exactly these, so a run nobody follows does not
  /// even build its step events.
  std::size_t all_steps = 0;
  std::multiset<std::string, std::less<>> followed;

  std::thread pump;
  std::uint64_t next_id = 0;  ///< pump only

  /// The feed's callback: on a publisher's thread (a run actor's); queues only.
  void on_event(const feed_event& e) {
    std::lock_guard lock(queue_mutex);
    if (queue.size() >= options.max_queued) {
      overflowed = true;
      return;
    }
    queue.push_back(e);
    if (queue.size() == 1)
      queue_ready.notify_one();
  }

  /// Counts `s`'s step filter in (`by` 1) or out (-1); under `mutex`.
  void count_steps(const step_filter& f, int by);
  void run_pump();
  /// Gives `batch` to the streams, `since` after the last batch; returns
  /// the number of streams it gave something to.
  std::size_t hand_out(std::vector<feed_event> batch, bool drop_all,
                       std::chrono::steady_clock::duration since);
  /// Unregisters `s` (under `mutex`); the subscription goes with the last.
  void forget(sse_stream* s);
};

/// One client's stream. Its fields are guarded by the hub's `mutex`.
class sse_stream final : public response_stream {
public:
  sse_stream(std::shared_ptr<event_hub::core> hub, step_filter steps,
             event_hub::authorization still_allowed)
    : steps(std::move(steps)), hub_(std::move(hub)), still_allowed_(std::move(still_allowed)) {
    pending_.push_back(retry_bytes);
  }
  ~sse_stream() override { close(); }

  void start(waker wake) override {
    std::lock_guard lock(hub_->mutex);
    if (!closed_)
      wake_ = std::move(wake);
  }

  state take(chunk& out) override {
    std::lock_guard lock(hub_->mutex);
    if (dropped_)
      return state::dropped;
    if (!authorized()) {  // revoked: nothing more for this client, not even what is pending
      ended_ = true;
      pending_.clear();
      backlog_ = 0;
      return state::ended;
    }
    for (auto& p : pending_)
      out.push_back(std::move(p));
    pending_.clear();
    backlog_ = 0;
    return ended_ ? state::ended : state::open;
  }

  void close() noexcept override {
    std::lock_guard lock(hub_->mutex);
    if (closed_)
      return;
    closed_ = true;
    wake_ = nullptr;
    pending_.clear();
    hub_->forget(this);
  }

  std::chrono::milliseconds idle_period() const noexcept override {
    return hub_->options.keep_alive;
  }
  std::shared_ptr<const std::string> idle_bytes() const override { return keep_alive_bytes; }

  // -- the hub's side (under its mutex) ------------------------------------------------

  /// The step events this client asked for; fixed at open.
  const step_filter steps;

  /// A batch for this client, or (drop) the end of it as too slow.
  /// `bytes` is null only with `drop`.
  void push(const std::shared_ptr<const std::string>& bytes, bool drop) {
    if (dropped_ || ended_)
      return;
    // Behind: batches wait that the client has not taken. One batch, however
    // large, is never too much for a client that keeps up.
    if (drop || (backlog_ > 0 && backlog_ + bytes->size() > hub_->options.max_backlog)) {
      dropped_ = true;
      pending_.clear();
      backlog_ = 0;
      if (wake_)
        wake_(true);
      return;
    }
    pending_.push_back(bytes);
    backlog_ += bytes->size();
    if (wake_)  // one wake per batch: at most one post per interval and stream
      wake_(false);
  }

  /// The hub detaches: what is pending is written, then the response ends.
  void end() {
    ended_ = true;
    still_allowed_ = nullptr;  // what it refers to (the token store) may go with the API
    if (wake_)
      wake_(false);
  }

private:
  /// Asks still_allowed_ when authorization_check passed since it last did
  /// (under the hub's mutex).
  bool authorized() {
    if (!still_allowed_ || ended_)
      return true;
    auto now = std::chrono::steady_clock::now();
    if (now - checked_ < event_hub::authorization_check)
      return true;
    checked_ = now;
    return still_allowed_();
  }

  std::shared_ptr<event_hub::core> hub_;
  event_hub::authorization still_allowed_;
  std::chrono::steady_clock::time_point checked_ = std::chrono::steady_clock::now();
  chunk pending_;
  std::size_t backlog_ = 0;
  waker wake_;
  bool ended_ = false;
  bool dropped_ = false;
  bool closed_ = false;
};

void event_hub::core::forget(sse_stream* s) {
  auto it = std::find(streams.begin(), streams.end(), s);
  if (it == streams.end())
    return;
  streams.erase(it);
  try {
    count_steps(s->steps, -1);
  } catch (...) {
    // Out of memory building the smaller interest (close() must not
    // throw): ask for every step instead; more events never hurt a stream.
    subscription.want_steps(true);
  }
  if (streams.empty())
    subscription.reset();  // nobody watches: the feed costs the runs nothing again
}

void event_hub::core::count_steps(const step_filter& f, int by) {
  if (f.all)
    all_steps += static_cast<std::size_t>(by);
  if (!f.run.empty() && by > 0)
    followed.insert(f.run);
  else if (!f.run.empty())
    followed.erase(followed.find(f.run));
  if (!f.all && f.run.empty())
    return;  // the interest is unchanged
  step_interest interest;
  interest.all = all_steps > 0;
  if (!interest.all)
    interest.runs.insert(followed.begin(), followed.end());
  subscription.want_steps(std::move(interest));
}

/// The pause between batches for `fanout` streams: each batch costs the
/// io thread one write per stream, so with many streams batches come less
/// often (1,000 streams: one a second, 1,000 writes a second).
std::chrono::steady_clock::duration batch_interval_for(std::size_t fanout,
                                                       const event_stream_options& o) {
  auto spread = o.batch_interval_per_stream * static_cast<std::int64_t>(fanout);
  return std::max<std::chrono::steady_clock::duration>(
    o.batch_interval, std::min<std::chrono::steady_clock::duration>(spread, o.max_batch_interval));
}

void event_hub::core::run_pump() {
  using clock = std::chrono::steady_clock;
  auto last = clock::time_point{};
  std::size_t fanout = 0;  // streams the last batch went to
  std::unique_lock lock(queue_mutex);
  for (;;) {
    queue_ready.wait(lock, [this] { return stopping || overflowed || !queue.empty(); });
    // At most one batch per interval: what arrives meanwhile joins it.
    auto due = last + batch_interval_for(fanout, options);
    if (!stopping && clock::now() < due)
      queue_ready.wait_until(lock, due, [this] { return stopping; });
    if (stopping)
      return;
    auto batch = std::exchange(queue, {});
    bool drop_all = std::exchange(overflowed, false);
    lock.unlock();
    auto now = clock::now();
    fanout = hand_out(std::move(batch), drop_all, now - last);
    last = now;
    lock.lock();
  }
}

/// How many run and step events each of `streams` streams may get of a
/// batch that comes `since` after the last one: the budget of deliveries
/// a second spread over them (at least one event).
std::size_t allowance_for(std::size_t streams, std::chrono::steady_clock::duration since,
                          const event_stream_options& o) {
  auto seconds = std::chrono::duration<double>(
                   std::min<std::chrono::steady_clock::duration>(since, o.max_batch_interval))
                   .count();
  auto share = static_cast<double>(o.max_deliveries_per_second) * seconds /
               static_cast<double>(std::max<std::size_t>(streams, 1));
  return std::max<std::size_t>(1, static_cast<std::size_t>(share));
}

std::size_t event_hub::core::hand_out(std::vector<feed_event> batch, bool drop_all,
                                      std::chrono::steady_clock::duration since) {
  if (drop_all) {  // events were lost: every stream ends, its client refetches
    std::lock_guard guard(mutex);
    for (auto* s : streams)
      s->push(nullptr, true);
    return 0;
  }
  // The distinct filters of the streams now, each with its text to come.
  std::map<step_filter, std::shared_ptr<const std::string>> texts;
  std::size_t open = 0;
  {
    std::lock_guard guard(mutex);
    if (streams.empty())
      return 0;  // the last stream closed since: nobody to serialize for
    open = streams.size();
    for (auto* s : streams)
      texts.emplace(s->steps, nullptr);
  }
  if (batch.size() > options.coalesce_above)
    detail::coalesce(batch);
  detail::event_batch batch_text(next_id, allowance_for(open, since, options));
  for (auto& e : batch)
    batch_text.add(e);
  for (auto& [filter, text] : texts)
    text = batch_text.for_filter(filter);
  std::size_t fanout = 0;
  std::lock_guard guard(mutex);
  for (auto* s : streams) {  // a dropped one stays here until the server closes it
    auto it = texts.find(s->steps);
    if (it == texts.end())
      continue;  // opened since with a filter of its own: its events start with the next batch
    if (it->second) {
      s->push(it->second, false);
      ++fanout;
    }
  }
  return fanout;
}

event_hub::event_hub(event_stream_options options)
  : options_(options), core_(std::make_shared<core>(options)) {
  core_->pump = std::thread([c = core_.get()] { c->run_pump(); });
}

event_hub::~event_hub() {
  detach();
  {
    std::lock_guard lock(core_->queue_mutex);
    core_->stopping = true;
  }
  core_->queue_ready.notify_one();
  core_->pump.join();
}

void event_hub::attach(run_event_feed& feed) {
  std::lock_guard lock(core_->mutex);
  core_->feed = &feed;
}

void event_hub::detach() {
  std::lock_guard lock(core_->mutex);
  for (auto* s : core_->streams)
    s->end();
  core_->streams.clear();
  core_->all_steps = 0;
  core_->followed.clear();
  core_->subscription.reset();
  core_->feed = nullptr;
}

http_response event_hub::open(step_filter steps, authorization still_allowed) {
  std::shared_ptr<sse_stream> stream;
  {
    std::lock_guard lock(core_->mutex);
    if (!core_->feed)
      return error_response(503, "shut_down", "the runtime is not open (starting or stopping); "
                                              "try again shortly");
    stream = std::make_shared<sse_stream>(core_, std::move(steps), std::move(still_allowed));
    core_->streams.push_back(stream.get());
    if (!core_->subscription)
      core_->subscription = core_->feed->subscribe(
        [c = core_.get()](const feed_event& e) { c->on_event(e); }, /*steps*/ false);
    core_->count_steps(stream->steps, 1);
  }
  http_response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("X-Accel-Buffering", "no");  // a proxy (nginx) must not hold events back
  r.stream = std::move(stream);
  return r;
}

std::size_t event_hub::open_streams() const {
  std::lock_guard lock(core_->mutex);
  return core_->streams.size();
}

} // namespace endure::console
