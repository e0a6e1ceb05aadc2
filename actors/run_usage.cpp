// Summing a run's usage from its journal (run_usage.hpp), and
// runtime::usage, which reads the runtime's own journal.
#include "endure/actors/run_usage.hpp"

#include "endure/actors/runtime.hpp"

namespace endure {

void run_usage::add(const step_completed_event& e) {
  if (e.usage.empty())
    return;
  steps.push_back({e.step, e.name, e.usage});
  prompt_tokens += e.usage.prompt_tokens;
  completion_tokens += e.usage.completion_tokens;
  cost_usd += e.usage.cost_usd;
}

expected<run_usage> read_run_usage(const journal& j, const std::string& run_id) {
  auto meta = j.run(run_id);
  if (!meta)
    return std::move(meta).error();
  auto records = j.read(run_id);
  if (!records)
    return std::move(records).error();
  run_usage out;
  for (auto& r : *records) {
    auto ev = decode_event(r.rec, run_id, r.seq);
    if (!ev)
      return std::move(ev).error();
    if (auto* done = std::get_if<step_completed_event>(&*ev))
      out.add(*done);
  }
  return out;
}

expected<run_usage> runtime::usage(const std::string& run_id) const {
  return read_run_usage(store(), run_id);
}

} // namespace endure
