// Offline start, signal, cancel and release: each is one write batch, an
// event at the end of the run's journal plus the status the next runtime
// acts on.
#include "endure/actors/offline_control.hpp"

#include "endure/actors/detail/clock.hpp"
#include "endure/actors/events.hpp"

namespace endure {

namespace {

/// The run's meta if `request` applies to its status, else invalid_state
/// with refusal()'s text.
expected<run_meta> run_accepting(const journal& store, const std::string& run_id,
                                 run_request request) {
  auto meta = store.run(run_id);
  if (!meta)
    return std::move(meta).error();
  if (auto why = refusal(request, run_id, meta->status); !why.empty())
    return make_error(errc::invalid_state, std::move(why));
  return meta;
}

/// `event` at `next_seq`, and status running.
write_batch resume_batch(const std::string& run_id, std::uint64_t next_seq,
                         const run_event& event) {
  write_batch batch;
  batch.append(run_id, next_seq, encode_event(event));
  batch.set_status(run_id, run_status::running, {}, detail::now_ms());
  return batch;
}

/// Appends `event` after the run's last record, with status running.
expected<void> append_and_resume(journal& store, const std::string& run_id,
                                 const run_event& event) {
  auto last = store.last_seq(run_id);
  if (!last)
    return std::move(last).error();
  return store.commit(resume_batch(run_id, *last + 1, event));
}

} // namespace

std::string refusal(run_request request, const std::string& run_id, run_status s) {
  auto is = "run " + run_id + " is " + std::string{to_string(s)};
  switch (request) {
  case run_request::signal:
    if (is_terminal(s))
      return "run " + run_id + " has already ended (" + std::string{to_string(s)}
             + "); the signal was not delivered";
    return {};
  case run_request::cancel:
    if (s == run_status::quarantined)
      return is + "; release it first (`endure release " + run_id + "`), then cancel it";
    if (s != run_status::running && s != run_status::waiting)
      return is + "; only a running or waiting run can be cancelled";
    return {};
  case run_request::release:
    if (s != run_status::quarantined)
      return is + ", not quarantined; only a quarantined run can be released";
    return {};
  }
  return {};
}

expected<run_status> existing_run_status(const journal& store, const std::string& run_id,
                                         const std::string& workflow) {
  auto meta = store.run(run_id);
  if (!meta)
    return std::move(meta).error();
  if (auto same = check_same_workflow(run_id, meta->workflow, workflow); !same)
    return std::move(same).error();
  return meta->status;
}

expected<run_status> start_offline(journal& store, const std::string& run_id,
                                   const std::string& workflow, std::string input) {
  if (auto ok = validate_run_id(run_id); !ok)
    return std::move(ok).error();
  if (auto existing = existing_run_status(store, run_id, workflow);
      existing || existing.error().code != errc::not_found)
    return existing;
  auto now = detail::now_ms();
  write_batch batch;  // what run_state::on_start writes for a new run
  batch.create_run(run_meta{run_id, workflow, run_status::running, now, now, {}});
  batch.append(run_id, 1, encode_event(run_started_event{workflow, std::move(input), now}));
  if (auto ok = store.commit(std::move(batch)); !ok)
    return std::move(ok).error();
  return run_status::running;
}

expected<void> deliver_signal_offline(journal& store, const std::string& run_id,
                                      const std::string& name, std::string payload) {
  auto meta = run_accepting(store, run_id, run_request::signal);
  if (!meta)
    return std::move(meta).error();
  auto last = store.last_seq(run_id);
  if (!last)
    return std::move(last).error();
  auto now = detail::now_ms();
  write_batch batch;
  batch.append(run_id, *last + 1,
               encode_event(signal_received_event{name, std::move(payload), now, {}}));
  if (meta->status == run_status::waiting)  // resume it at the next start
    batch.set_status(run_id, run_status::running, {}, now);
  return store.commit(std::move(batch));
}

expected<void> cancel_offline(journal& store, const std::string& run_id,
                              const std::string& reason) {
  auto meta = run_accepting(store, run_id, run_request::cancel);
  if (!meta)
    return std::move(meta).error();
  return append_and_resume(store, run_id, cancel_requested_event{reason, detail::now_ms()});
}

write_batch release_batch(const std::string& run_id, std::uint64_t next_seq,
                          const std::string& reason) {
  return resume_batch(run_id, next_seq, run_released_event{reason, detail::now_ms()});
}

expected<void> release_offline(journal& store, const std::string& run_id,
                               const std::string& reason) {
  auto meta = run_accepting(store, run_id, run_request::release);
  if (!meta)
    return std::move(meta).error();
  return append_and_resume(store, run_id, run_released_event{reason, detail::now_ms()});
}

} // namespace endure
