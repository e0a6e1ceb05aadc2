// Folding a run's events into a timeline (run_timeline.hpp).
#include "endure/net/console/run_timeline.hpp"

namespace endure::console {

namespace {

attempt_view& attempt_of(step_view& s, std::uint32_t attempt) {
  for (auto& a : s.attempts)
    if (a.attempt == attempt)
      return a;
  s.attempts.push_back({});
  s.attempts.back().attempt = attempt;
  return s.attempts.back();
}

struct folder {
  run_timeline& t;
  std::uint64_t seq;

  step_view& step(std::uint64_t index, const std::string& name) {
    auto& s = t.steps[index];
    s.index = index;
    s.name = name;
    return s;
  }
  void operator()(const run_started_event& e) {
    t.workflow = e.workflow;
    t.input = e.input;
    t.started_ms = e.at_ms;
  }
  void operator()(const step_started_event& e) {
    auto& a = attempt_of(step(e.step, e.name), e.attempt);
    a.started_ms = e.at_ms;
    a.seq = seq;
  }
  void operator()(const step_completed_event& e) {
    auto& s = step(e.step, e.name);
    auto& a = attempt_of(s, e.attempt);
    a.outcome = "completed";
    a.duration_us = e.duration_us;
    a.seq = seq;
    s.result = e.result;
    s.completed_seq = seq;
    s.usage = e.usage;
    t.usage.add(e);
  }
  void operator()(const step_failed_event& e) {
    auto& a = attempt_of(step(e.step, e.name), e.attempt);
    a.outcome = "failed";
    a.duration_us = e.duration_us;
    // Async steps journal failures with duration 0 (actors/run_state.cpp):
    // fall back to the time between the attempt's start and its failure.
    if (a.duration_us == 0 && a.started_ms > 0 && e.at_ms > a.started_ms)
      a.duration_us = (e.at_ms - a.started_ms) * 1000;
    a.error_class = e.cls;
    a.message = e.message;
    a.http_status = e.http_status;
    a.seq = seq;
  }
  void operator()(const timer_scheduled_event&) {}
  void operator()(const signal_received_event& e) {
    t.signals.push_back(e.name + ": " + summarise(e.payload));
  }
  void operator()(const cancel_requested_event& e) { t.cancel_reason = e.reason; }
  void operator()(const run_finished_event& e) { t.finished = e; }
  void operator()(const run_released_event& e) { t.releases.push_back(e.reason); }
  void operator()(const step_interrupted_event& e) {
    auto& a = attempt_of(step(e.step, e.name), e.attempt);
    a.outcome = "interrupted";
    a.seq = seq;
  }
  /// Events the timeline does not show (newer ones included).
  template <class Other>
  void operator()(const Other&) {}
};

} // namespace

run_timeline build_timeline(const std::vector<seq_event>& events) {
  run_timeline t;
  for (auto& e : events)
    std::visit(folder{t, e.seq}, e.event);
  // An attempt that never finished although a later one started was cut
  // off: the process died while it ran.
  for (auto& [_, s] : t.steps)
    for (std::size_t i = 0; i + 1 < s.attempts.size(); ++i)
      if (s.attempts[i].outcome == "in flight")
        s.attempts[i].outcome = "cut off";
  return t;
}

std::map<std::string, std::size_t> retries_by_class(const run_timeline& t) {
  std::map<std::string, std::size_t> out;
  for (auto& [_, s] : t.steps)
    for (auto& a : s.attempts)
      if (a.error_class)
        ++out[std::string{to_string(*a.error_class)}];
  return out;
}

} // namespace endure::console
