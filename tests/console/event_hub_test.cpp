// The event hub behind GET /api/v1/events (net/console/event_stream.hpp),
// driven through the interface the server uses (response_stream.hpp) with
// a feed of its own, no runtime and no socket: the feed has a listener only
// while a stream is open, a busy batch keeps each run's latest events, a
// stream that falls behind is dropped, a detach ends streams after what
// they have, and a hub not attached refuses streams.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include "endure/actors/run_event_feed.hpp"
#include "endure/net/console/event_stream.hpp"
#include "endure/net/console/response_stream.hpp"

using namespace endure;
using namespace endure::console;
using namespace std::chrono_literals;

namespace {

/// A stream as the server holds it: its wakes counted for the test thread.
class watched_stream {
public:
  explicit watched_stream(event_hub& hub, step_filter steps = {})
    : answer_(hub.open(std::move(steps))) {
    REQUIRE(answer_.status == 200);
    REQUIRE(answer_.stream);
    answer_.stream->start([this](bool drop) {
      std::lock_guard lock(mutex_);
      ++wakes_;
      dropped_ |= drop;
      woken_.notify_all();
    });
  }
  ~watched_stream() { answer_.stream->close(); }

  /// Waits (at most 5 s) for wake number `n`.
  bool woken(int n) {
    std::unique_lock lock(mutex_);
    return woken_.wait_for(lock, 5s, [&] { return wakes_ >= n; });
  }
  bool dropped() {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  int wakes() {
    std::lock_guard lock(mutex_);
    return wakes_;
  }

  /// What take() gives, as one string.
  std::string take(response_stream::state& state) {
    response_stream::chunk out;
    state = answer_.stream->take(out);
    std::string text;
    for (auto& bytes : out)
      text += *bytes;
    return text;
  }
  std::string take() {
    response_stream::state ignored;
    return take(ignored);
  }

  http_response& answer() { return answer_; }

private:
  http_response answer_;
  std::mutex mutex_;
  std::condition_variable woken_;
  int wakes_ = 0;
  bool dropped_ = false;
};

run_changed run_event(const std::string& run, run_status s) {
  return {run, "wf", s, ""};
}

step_changed step_event(const std::string& run, std::uint64_t step) {
  return {run, step, "s" + std::to_string(step), 1, step_outcome::completed};
}

/// The "event:" and "data:" lines of `text`, event by event.
std::vector<std::string> data_lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; (pos = text.find("data: ", pos)) != std::string::npos;) {
    auto end = text.find('\n', pos);
    out.push_back(text.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

} // namespace

SCENARIO("the feed has a listener only while a stream is open", "[console][events]") {
  run_event_feed feed;
  event_hub hub;
  hub.attach(feed);
  CHECK_FALSE(feed.listening());
  {
    watched_stream s(hub);
    CHECK(feed.listening());
    CHECK(hub.open_streams() == 1);
    CHECK(s.answer().content_type == "text/event-stream");
    CHECK(s.take() == "retry: 2000\n\n");
  }
  CHECK(hub.open_streams() == 0);
  CHECK_FALSE(feed.listening());
}

SCENARIO("a hub not attached refuses streams, and a detach ends them after what they have",
         "[console][events]") {
  run_event_feed feed;
  event_hub hub;
  auto refused = hub.open();
  CHECK(refused.status == 503);
  CHECK_FALSE(refused.stream);

  hub.attach(feed);
  watched_stream s(hub);
  hub.detach();
  REQUIRE(s.woken(1));
  response_stream::state state;
  CHECK(s.take(state) == "retry: 2000\n\n");
  CHECK(state == response_stream::state::ended);
  CHECK_FALSE(feed.listening());
  CHECK(hub.open().status == 503);
}

SCENARIO("a busy batch keeps the last run and step event of each run, and every request event",
         "[console][events]") {
  run_event_feed feed;
  event_stream_options o;
  o.batch_interval = 2s;  // the events below join one batch: published well within it
  o.coalesce_above = 3;
  event_hub hub(o);
  hub.attach(feed);
  watched_stream s(hub, {.all = true, .run = {}});
  feed.publish(run_event("primer", run_status::running));  // the first batch goes at once
  REQUIRE(s.woken(1));
  s.take();
  feed.publish(step_event("a", 0));
  feed.publish(step_event("a", 1));
  feed.publish(run_event("a", run_status::waiting));
  feed.publish(step_event("b", 0));
  feed.publish(request_changed{"waiting", "a/3", "a", R"({"tool": "publish"})"});
  feed.publish(step_event("a", 2));
  feed.publish(run_event("a", run_status::running));
  REQUIRE(s.woken(2));
  auto text = s.take();
  INFO(text);
  CHECK(data_lines(text) == std::vector<std::string>{
    R"({"attempt":1,"name":"s0","outcome":"completed","run":"b","step":0})",
    R"({"detail":{"tool":"publish"},"kind":"waiting","request":"a/3","run":"a"})",
    R"({"attempt":1,"name":"s2","outcome":"completed","run":"a","step":2})",
    R"({"detail":"","run":"a","status":"running","workflow":"wf"})"});
  // Ids go on from the first batch's, given to the events that are sent.
  CHECK(text.find("id: 2\nevent: step\n") == 0);
  CHECK(text.find("id: 5\nevent: run\n") != std::string::npos);
}

SCENARIO("a stream that falls behind is dropped", "[console][events]") {
  run_event_feed feed;
  event_stream_options o;
  o.batch_interval = 0ms;
  o.max_backlog = 1024;
  event_hub hub(o);
  hub.attach(feed);
  watched_stream slow(hub, {.all = true, .run = {}});
  watched_stream other(hub, {.all = false, .run = "late"});
  // 2 KiB in one event, so in one batch: accepted, although over the limit
  // (a client that keeps up takes any batch).
  feed.publish(run_changed{"big", "wf", run_status::running, std::string(2048, 'x')});
  REQUIRE(slow.woken(1));
  CHECK_FALSE(slow.dropped());
  REQUIRE(other.woken(1));
  other.take();  // this one keeps up
  feed.publish(step_event("late", 1));
  REQUIRE(slow.woken(2));
  CHECK(slow.dropped());
  response_stream::state state;
  CHECK(slow.take(state).empty());
  CHECK(state == response_stream::state::dropped);
  REQUIRE(other.woken(2));
  CHECK_FALSE(other.dropped());
  CHECK(data_lines(other.take()).size() == 1);
}

SCENARIO("each stream gets the step events its filter asks for, and no wake for a batch it gets "
         "nothing of", "[console][events]") {
  run_event_feed feed;
  event_stream_options o;
  o.batch_interval = 1s;  // the events below join one batch: published well within it
  event_hub hub(o);
  hub.attach(feed);
  watched_stream none(hub), one(hub, {.all = false, .run = "a"}), all(hub, {.all = true, .run = {}});
  feed.publish(run_event("primer", run_status::running));  // the first batch goes at once
  for (auto* s : {&none, &one, &all}) {
    REQUIRE(s->woken(1));
    s->take();
  }
  feed.publish(step_event("a", 0));
  feed.publish(step_event("b", 0));
  feed.publish(run_event("b", run_status::completed));
  for (auto* s : {&none, &one, &all})
    REQUIRE(s->woken(2));
  CHECK(data_lines(none.take()) == std::vector<std::string>{
    R"({"detail":"","run":"b","status":"completed","workflow":"wf"})"});
  CHECK(data_lines(one.take()) == std::vector<std::string>{
    R"({"attempt":1,"name":"s0","outcome":"completed","run":"a","step":0})",
    R"({"detail":"","run":"b","status":"completed","workflow":"wf"})"});
  CHECK(data_lines(all.take()).size() == 3);

  WHEN("a batch holds only another run's step events") {
    feed.publish(step_event("b", 1));
    REQUIRE(all.woken(3));  // the batch is handed out to every stream at once
    CHECK(all.take().find("\"run\":\"b\"") != std::string::npos);
    CHECK(none.wakes() == 2);
    CHECK(one.wakes() == 2);
    CHECK(none.take().empty());
    CHECK(one.take().empty());
  }
}

SCENARIO("while no stream asks for step events, they are not even queued", "[console][events]") {
  run_event_feed feed;
  event_stream_options o;
  o.batch_interval = 300ms;
  event_hub hub(o);
  hub.attach(feed);
  watched_stream s(hub);
  feed.publish(run_event("primer", run_status::running));
  REQUIRE(s.woken(1));
  CHECK(s.take().find("id: 1\n") != std::string::npos);
  feed.publish(step_event("x", 0));
  feed.publish(run_event("x", run_status::completed));
  REQUIRE(s.woken(2));
  // Ids go to the events serialized: a step event queued and filtered out
  // would have taken id 2.
  CHECK(s.take().find("id: 2\nevent: run\n") == 0);
}

SCENARIO("while streams follow only some runs, other runs' step events are not even queued",
         "[console][events]") {
  run_event_feed feed;
  event_stream_options o;
  o.batch_interval = 1s;
  event_hub hub(o);
  hub.attach(feed);
  watched_stream one(hub, {.all = false, .run = "a"});
  feed.publish(run_event("primer", run_status::running));
  REQUIRE(one.woken(1));
  CHECK(one.take().find("id: 1\n") != std::string::npos);
  feed.publish(step_event("b", 0));
  feed.publish(step_event("a", 0));
  feed.publish(run_event("b", run_status::completed));
  REQUIRE(one.woken(2));
  // Ids go to the events serialized: b's step, queued and filtered out,
  // would have taken id 2.
  auto text = one.take();
  INFO(text);
  CHECK(text.find("id: 2\nevent: step\n") == 0);
  CHECK(text.find("id: 3\nevent: run\n") != std::string::npos);
}

SCENARIO("past its share of the deliveries budget a stream gets a summary instead of run and step "
         "events, and still every request event and the events of the run it follows",
         "[console][events]") {
  run_event_feed feed;
  event_stream_options o;
  o.batch_interval = 1s;  // the events below join one batch: published well within it
  o.max_deliveries_per_second = 10;  // two streams, a batch a second: 5 events a batch each
  event_hub hub(o);
  hub.attach(feed);
  watched_stream plain(hub), follows(hub, {.all = false, .run = "r9"});
  feed.publish(run_event("primer", run_status::running));  // within the allowance: as it is
  for (auto* s : {&plain, &follows}) {
    REQUIRE(s->woken(1));
    CHECK(data_lines(s->take()).size() == 1);
  }
  for (int i = 0; i < 9; ++i)
    feed.publish(run_event("r" + std::to_string(i), run_status::completed));
  feed.publish(request_changed{"waiting", "r9/1", "r9", R"({"tool": "publish"})"});
  feed.publish(step_event("r9", 0));
  feed.publish(run_event("r9", run_status::failed));
  for (auto* s : {&plain, &follows})
    REQUIRE(s->woken(2));
  auto plain_text = plain.take();
  INFO(plain_text);
  CHECK(data_lines(plain_text) == std::vector<std::string>{
    R"({"detail":{"tool":"publish"},"kind":"waiting","request":"r9/1","run":"r9"})",
    R"({"events":10,"runs":10,"statuses":{"completed":9,"failed":1}})"});
  CHECK(plain_text.find("event: summary\n") != std::string::npos);
  CHECK(data_lines(follows.take()) == std::vector<std::string>{
    R"({"detail":{"tool":"publish"},"kind":"waiting","request":"r9/1","run":"r9"})",
    R"({"attempt":1,"name":"s0","outcome":"completed","run":"r9","step":0})",
    R"({"detail":"","run":"r9","status":"failed","workflow":"wf"})",
    R"({"events":9,"runs":9,"statuses":{"completed":9}})"});
}
