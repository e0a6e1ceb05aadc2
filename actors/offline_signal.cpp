// deliver_signal_offline: one write batch, signal event plus status.
#include "actors/offline_signal.hpp"

#include <chrono>

#include "actors/detail/clock.hpp"
#include "actors/events.hpp"

namespace endure {

expected<void> deliver_signal_offline(journal& store, const std::string& run_id,
                                      const std::string& name, std::string payload) {
  auto meta = store.run(run_id);
  if (!meta)
    return std::move(meta).error();
  if (is_terminal(meta->status))
    return make_error(errc::invalid_argument, "run " + run_id + " has already ended ("
                                                + std::string{to_string(meta->status)}
                                                + "); the signal was not delivered");
  auto last = store.last_seq(run_id);
  if (!last)
    return std::move(last).error();
  auto now = detail::now_ms();
  write_batch batch;
  batch.append(run_id, *last + 1,
               encode_event(signal_received_event{name, std::move(payload), now}));
  if (meta->status == run_status::waiting)  // resume it at the next start
    batch.set_status(run_id, run_status::running, {}, now);
  return store.commit(std::move(batch));
}

} // namespace endure
