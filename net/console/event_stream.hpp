// The console's live events (GET /api/v1/events, issue 16): the runtime's
// event feed (actors/run_event_feed.hpp) as Server-Sent Events, to any
// number of clients at once. The wire format is the console contract's:
//
//   retry: 2000                     first, once
//   id: N / event: KIND / data: JSON    each event, N increasing (not consecutive)
//   : keep-alive                    after keep_alive of silence
//
// A stream is authorized once at open and again at most once a second
// (authorization_check) while it runs: a revoked token's stream ends.
//
// KIND run {"run", "workflow", "status", "detail"}, step {"run", "step",
// "name", "attempt", "outcome"}, request {"kind", "request", "run",
// "detail" (the gateway's JSON object)} or summary (below). Every stream
// gets every request event, and every run event unless the batch is too
// busy for its share of the budget (below); step events only as its
// step_filter asks (one run's, or all): step events are most of the
// traffic of a busy runtime, and a list of runs or an inbox has no use
// for them.
//
// How it stays cheap with many clients (the design the figure of
// 1,000 streams rests on):
// * One subscription to the feed for all streams, held only while a stream
//   is open (so a console nobody watches costs the runs one relaxed load
//   per event). The subscription asks the feed for the step events the
//   streams ask for (all, or the runs they follow), so a run nobody
//   follows does not even build its step events (a step made at the very
//   moment a stream opens may miss it: events are hints). The feed's callback only
//   queues the event: a run actor never waits for a client, and never
//   serializes.
// * One thread of the hub (the pump) serializes each event once, into one
//   string per batch and step filter, shared by every stream with that
//   filter; a stream's backlog is a list of pointers to those strings,
//   written with one write per batch. A stream whose filter leaves nothing
//   of a batch is not woken for it.
// * Batches go out at most every batch_interval, longer with many streams
//   (batch_interval_per_stream; the first event after a quiet spell at
//   once), so a busy runtime costs the io thread about 1,000 writes a
//   second for 1,000 streams instead of 20,000.
// * Coalescing: a batch holding more than coalesce_above events keeps only
//   the last step event and the last run event of each run (request events
//   are all kept): under load a client sees each busy run's latest state,
//   not every step. Ids are given after coalescing, to every event
//   serialized (a stream sees gaps where others' step events went).
// * A budget of deliveries (max_deliveries_per_second, an event to each
//   stream it goes to) is shared by the open streams: when a batch holds
//   more run and step events for a stream than its share, none of them go
//   to it, one `summary` event {"events", "runs", "statuses"} in their
//   place (detail/event_batch.hpp). Request events and the events of the
//   run a stream follows always go.
// * A stream that has batches waiting (not yet taken by its writer) when
//   another would bring them past max_backlog bytes is dropped: its
//   connection closes at once, even mid-write. If more than max_queued
//   events wait for the pump, every stream open then is dropped. Clients
//   reconnect and refetch; events are hints, the REST routes the truth.
//
// Threads: attach/detach/open from any thread; the streams are read by the
// server's io thread (response_stream.hpp).
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "endure/net/console/http_exchange.hpp"

namespace endure {
class run_event_feed;
}

namespace endure::console {

struct event_stream_options {
  /// A stream silent this long gets a comment line. Default: 15 s.
  std::chrono::milliseconds keep_alive{15'000};
  /// Bytes one stream may have waiting beyond the write in flight (one
  /// batch is always accepted when none waits); a client further behind
  /// is disconnected. Default: 256 KiB.
  std::size_t max_backlog = 256 * 1024;
  /// Streams get new events at most this often. Default: 50 ms.
  std::chrono::milliseconds batch_interval{50};
  /// With many streams batches come less often: the interval is at least
  /// this much per stream the last batch went to (each batch is one write
  /// per stream, and on loopback a write costs both ends some 50 us of
  /// CPU), up to max_batch_interval. Default: 1 ms (1,000 streams: a batch
  /// a second).
  std::chrono::microseconds batch_interval_per_stream{1000};
  /// Default: 1 s.
  std::chrono::milliseconds max_batch_interval{1000};
  /// A batch with more events than this is coalesced (see the top).
  /// Default: 256.
  std::size_t coalesce_above = 256;
  /// Run and step events the hub sends a second, all streams together
  /// (one event to 1,000 streams is 1,000): a stream whose run and step
  /// events of a batch are more than its share gets one summary event in
  /// their place (see the top). What the io thread writes, and what the
  /// clients' machines read, stays bounded however busy the runtime and
  /// however many watch. Default: 32,000 (some 5 MB/s).
  std::size_t max_deliveries_per_second = 32'000;
  /// Events waiting for the pump at most; past it every stream is dropped.
  /// Default: 65,536.
  std::size_t max_queued = 65'536;
};

/// Which step events a stream gets (run and request events go to every
/// stream, see the top).
struct step_filter {
  /// Every run's step events (?steps=all): a busy runtime's every step.
  bool all = false;
  /// Else the step events of this run only (?run=ID); none if empty.
  std::string run;

  bool wants(std::string_view step_run) const noexcept {
    return all || (!run.empty() && step_run == run);
  }
  /// Ordered: the hub keys each batch's text by filter.
  auto operator<=>(const step_filter&) const = default;
};

class event_hub {
public:
  explicit event_hub(event_stream_options options = {});
  /// Ends every stream (detach) and stops the pump.
  ~event_hub();
  event_hub(const event_hub&) = delete;
  event_hub& operator=(const event_hub&) = delete;

  /// Streams the events of `feed` (which must outlive detach()).
  void attach(run_event_feed& feed);
  /// Ends every open stream (each writes what it has, then its connection
  /// closes) and lets go of the feed. Idempotent.
  void detach();

  /// Says whether the client that opened a stream may still watch (its
  /// token still authenticates). Called on the server's io thread, under
  /// the hub's lock, at most once per authorization_check: keep it quick.
  using authorization = std::function<bool()>;
  /// How often at most a stream asks its authorization: when it has
  /// something to write and at each keep-alive. A stream whose client may
  /// no longer watch (a revoked token) ends, without what was pending, so
  /// it ends within keep_alive + authorization_check of the revoke.
  static constexpr std::chrono::milliseconds authorization_check{1'000};

  /// The answer to GET /api/v1/events: 200 text/event-stream with a new
  /// stream that gets the step events `steps` asks for, or 503 when not
  /// attached. `still_allowed` (empty: always) is asked as said above;
  /// once false, the stream ends.
  http_response open(step_filter steps = {}, authorization still_allowed = {});

  /// Streams open now (opened and not yet closed by the server).
  std::size_t open_streams() const;

  struct core;
private:
  event_stream_options options_;
  std::shared_ptr<core> core_;
};

} // namespace endure::console
