// replay_log: the event handler of the run (Akka's "apply event to state").
#include "endure/actors/replay_log.hpp"

namespace endure {

step_record& replay_log::at(std::uint64_t index, const std::string& name,
                            std::uint64_t hash) {
  if (index >= steps_.size())
    steps_.resize(index + 1);
  auto& s = steps_[index];
  if (!s.seen) {
    s.seen = true;
    s.name = name;
    s.input_hash = hash;
  }
  return s;
}

void replay_log::apply(std::uint64_t seq, run_event e) {
  last_seq_ = std::max(last_seq_, seq);
  std::visit([&](auto& ev) {
    using T = std::decay_t<decltype(ev)>;
    if constexpr (std::is_same_v<T, run_started_event>) {
      started_ = std::move(ev);
    } else if constexpr (std::is_same_v<T, step_started_event>) {
      auto& s = at(ev.step, ev.name, ev.input_hash);
      if (s.first_started_ms == 0)
        s.first_started_ms = ev.at_ms;
      s.attempts_started = std::max(s.attempts_started, ev.attempt);
      ++s.crashed_attempts;  // until its outcome arrives
    } else if constexpr (std::is_same_v<T, step_completed_event>) {
      auto& s = at(ev.step, ev.name, ev.input_hash);
      if (s.crashed_attempts > 0 && ev.attempt > 0 && ev.attempt <= s.attempts_started)
        --s.crashed_attempts;
      s.timer_due.reset();
      for (auto& sig : signals_)
        if (ev.signal_seq != 0 && sig.seq == ev.signal_seq)
          sig.consumed = true;
      s.completed = std::make_unique<step_completed_event>(std::move(ev));
    } else if constexpr (std::is_same_v<T, step_failed_event>) {
      auto& s = at(ev.step, ev.name, 0);
      if (s.crashed_attempts > 0 && ev.attempt <= s.attempts_started)
        --s.crashed_attempts;
      if (!ev.final)
        s.timer_due = ev.retry_at_ms;
      s.last_failure = std::make_unique<step_failed_event>(std::move(ev));
    } else if constexpr (std::is_same_v<T, timer_scheduled_event>) {
      at(ev.step, ev.name, ev.input_hash).timer_due = ev.due_ms;
    } else if constexpr (std::is_same_v<T, signal_received_event>) {
      signals_.push_back(
        {seq, std::move(ev.name), std::move(ev.payload), false, std::move(ev.request_id)});
    } else if constexpr (std::is_same_v<T, cancel_requested_event>) {
      if (!cancel_)
        cancel_ = std::move(ev);
    } else if constexpr (std::is_same_v<T, run_finished_event>) {
      finished_ = std::move(ev);
    } else if constexpr (std::is_same_v<T, step_interrupted_event>) {
      auto& s = at(ev.step, ev.name, 0);
      if (s.crashed_attempts > 0 && ev.attempt <= s.attempts_started)
        --s.crashed_attempts;  // abandoned at a shutdown: not a crash
    } else if constexpr (std::is_same_v<T, run_released_event>) {
      released_ = true;
      for (auto& s : steps_)
        s.crashed_attempts = 0;  // a person looked; count crashes afresh
    }
  }, e);
}

const step_record* replay_log::step(std::uint64_t index) const {
  return index < steps_.size() && steps_[index].seen ? &steps_[index] : nullptr;
}

const signal_record* replay_log::signal_at(std::uint64_t seq) const {
  for (auto& s : signals_)
    if (s.seq == seq)
      return &s;
  return nullptr;
}

const signal_record* replay_log::signal_of_request(std::string_view request_id) const {
  if (request_id.empty())
    return nullptr;
  for (auto& s : signals_)
    if (s.request_id == request_id)
      return &s;
  return nullptr;
}

const signal_record* replay_log::next_signal(std::string_view name) const {
  for (auto& s : signals_)
    if (!s.consumed && s.name == name)
      return &s;
  return nullptr;
}

} // namespace endure
