// Reading the demo's progress and totals from the journal (demo_journal.hpp).
#include "endure/cli/demo_journal.hpp"

#include <algorithm>

#include "endure/cli/request_rows.hpp"
#include "endure/cli/run_timeline.hpp"

namespace endure::cli {

namespace {

void add_run(demo_totals& t, const run_meta& m, const run_timeline& tl) {
  run_progress p;
  p.id = m.id;
  p.status = m.status;
  p.started_ms = tl.started_ms;
  p.finished_ms = tl.finished ? tl.finished->at_ms : 0;
  for (auto& [_, s] : tl.steps) {
    p.current_step = s.name;
    t.attempts += s.attempts.size();
    for (auto& a : s.attempts) {
      if (a.error_class)
        ++p.retries;
      if (a.outcome == "cut off")
        ++t.attempts_lost;
    }
    if (!s.result)
      continue;
    ++p.steps_done;
  }
  t.cost_usd += tl.usage.cost_usd;  // journaled by each ctx.llm step
  t.tokens += tl.usage.tokens();
  for (auto& [cls, n] : retries_by_class(tl))
    t.retries_by_class[cls] += n;
  t.steps_done += p.steps_done;
  t.runs_completed += m.status == run_status::completed ? 1 : 0;
  if (!is_terminal(m.status)) {
    ++t.redo.runs;
    t.redo.steps += p.steps_done;
    t.redo.cost_usd += tl.usage.cost_usd;
  }
  t.runs.push_back(std::move(p));
}

void add_request(demo_people& p, const gateway::human_request& r) {
  ++(r.kind == gateway::request_kind::question ? p.questions : p.approvals);
  if (r.status == gateway::request_status::pending) {
    ++p.pending;
    return;
  }
  if (r.status == gateway::request_status::expired || !r.outcome) {
    ++p.by_decision["expired"];
    return;
  }
  ++p.by_decision[std::string{gateway::to_string(r.outcome->what)}];
  for (auto& who : r.outcome->principals)
    ++p.by_principal[who];
  p.waits_ms.push_back(std::max<std::int64_t>(0, r.outcome->at_ms - r.created_ms));
}

} // namespace

expected<demo_people> read_demo_people(const std::string& data_dir) {
  demo_people p;
  auto j = open_journal_view(data_dir);
  if (!j)
    return j.error().code == errc::not_found ? expected<demo_people>{p} : j.error();
  auto listing = read_requests(**j);
  if (!listing)
    return listing.error();
  for (auto& r : listing->requests)
    add_request(p, r);
  std::sort(p.waits_ms.begin(), p.waits_ms.end());
  return p;
}

expected<demo_totals> read_demo_totals(const std::string& data_dir,
                                       const std::vector<std::string>& ids) {
  demo_totals t;
  auto j = open_journal_view(data_dir);
  if (!j && j.error().code != errc::not_found)
    return j.error();
  for (auto& id : ids) {
    auto meta = j ? (*j)->run(id) : expected<run_meta>{make_error(errc::not_found, id)};
    if (!meta) {
      if (meta.error().code != errc::not_found)
        return meta.error();
      run_progress p;
      p.id = id;
      t.runs.push_back(p);
      continue;
    }
    auto events = read_events(**j, id);
    if (!events)
      return events.error();
    add_run(t, *meta, build_timeline(*events));
  }
  return t;
}

} // namespace endure::cli
