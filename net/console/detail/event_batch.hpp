// One batch of the console's live events (event_stream.hpp) as the wire
// text each kind of stream gets: the events serialized once, in order,
// then joined per step filter. Under load a batch is cut down twice:
//
// * coalesce(): a batch of more than coalesce_above events keeps the last
//   run event and the last step event of each run, and every request event.
// * A stream gets at most `allowance` run and step events of a batch (the
//   hub spreads a budget of deliveries a second over its open streams):
//   if the batch holds more for it, none of them go, one `summary` event
//   {"events", "runs", "statuses"} in their place (how many were left
//   out, of how many runs, and the runs' latest statuses among them,
//   counted): "much changed, refetch". Request events and the events of
//   the run a stream follows (?run=ID) are never cut.
//
// The pump's thread only; no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "endure/actors/run_event_feed.hpp"
#include "endure/net/console/event_stream.hpp"

namespace endure::console::detail {

/// Keeps the last run event and the last step event of each run, and
/// every request event, in order.
void coalesce(std::vector<feed_event>& batch);

class event_batch {
public:
  /// Ids come from `next_id` (the hub's counter: each event sent, and each
  /// summary, takes the next); a stream gets at most `allowance` run and
  /// step events of the batch (see the top).
  event_batch(std::uint64_t& next_id, std::size_t allowance)
    : next_id_(next_id), allowance_(allowance) {}

  /// Serializes `e` with the next id.
  void add(const feed_event& e);

  /// What a stream with `filter` gets (null: nothing). Streams that get
  /// nothing the plain filter does not share one string.
  std::shared_ptr<const std::string> for_filter(const step_filter& filter);

private:
  struct entry {
    std::string text;
    bool request = false;
    bool step = false;
    std::string run;
    std::optional<run_status> status;  ///< a run event's
  };

  /// `e` goes to a stream with `filter` however busy the batch (requests,
  /// the run it follows).
  static bool always(const entry& e, const step_filter& filter);
  /// `e` goes to a stream with `filter` unless the batch is too busy.
  static bool wanted(const entry& e, const step_filter& filter);
  std::shared_ptr<const std::string> build(const step_filter& filter);
  std::string summary(const std::vector<const entry*>& left_out);

  std::uint64_t& next_id_;
  const std::size_t allowance_;
  std::vector<entry> entries_;
  std::optional<std::shared_ptr<const std::string>> plain_;  ///< the plain filter's, once built
};

} // namespace endure::console::detail
