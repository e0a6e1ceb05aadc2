// read_outcome: the run's status from its meta, its result from its last
// record (run_finished).
#include "endure/actors/run_outcome.hpp"

#include "endure/actors/events.hpp"

namespace endure {

expected<run_outcome> read_outcome(const journal& store, std::string_view run_id) {
  auto meta = store.run(run_id);
  if (!meta)
    return std::move(meta).error();
  run_outcome out{meta->status, {}, meta->detail};
  if (!is_terminal(meta->status))
    return out;
  auto last = store.last_seq(run_id);
  if (!last)
    return std::move(last).error();
  auto recs = store.read(run_id, *last, 1);
  if (!recs)
    return std::move(recs).error();
  if (recs->empty())
    return out;
  auto ev = decode_event(recs->front().rec, run_id, recs->front().seq);
  if (!ev)
    return std::move(ev).error();
  if (auto* fin = std::get_if<run_finished_event>(&*ev)) {
    out.result = fin->result;
    out.error = fin->error;
  }
  return out;
}

} // namespace endure
