// journaled_signal: a run's log, read for one signal.
#include "endure/actors/journaled_signal.hpp"

#include <string>
#include <variant>

namespace endure {

expected<std::optional<signal_received_event>> journaled_signal(const journal& store,
                                                               std::string_view run_id,
                                                               std::string_view request_id) {
  // One read: the journal walks a run's log from its head whatever the
  // first seq asked for, so pages would cost more, not less.
  auto records = store.read(run_id);
  if (!records)
    return std::move(records).error();
  for (auto& r : *records) {
    auto ev = decode_event(r.rec, run_id, r.seq);
    if (!ev)
      return std::move(ev).error();
    if (auto* s = std::get_if<signal_received_event>(&*ev); s && s->request_id == request_id)
      return std::optional<signal_received_event>{std::move(*s)};
  }
  return std::optional<signal_received_event>{};
}

error signal_taken(std::string_view run_id, std::string_view name, std::string_view request_id) {
  return make_error(errc::already_exists, "run " + std::string{run_id} + " has already taken "
                                            "signal " + std::string{name} + " (request id "
                                            + std::string{request_id} + "); this one was not "
                                            "applied");
}

} // namespace endure
