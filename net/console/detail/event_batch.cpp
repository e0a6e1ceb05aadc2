// event_batch (event_batch.hpp): serialization, coalescing and the cut to
// a stream's allowance.
#include "endure/net/console/detail/event_batch.hpp"

#include <map>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace endure::console::detail {

namespace {

using json = nlohmann::json;

std::string event_text(std::uint64_t id, std::string_view kind, const json& data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: ";
  out += kind;
  out += "\ndata: ";
  // dump() escapes newlines inside strings, so the data is one line; bad
  // UTF-8 from a run id or a reason is replaced, not thrown on.
  out += data.dump(-1, ' ', false, json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

std::string serialize(std::uint64_t id, const feed_event& e) {
  if (auto* r = std::get_if<run_changed>(&e))
    return event_text(id, "run", {{"run", r->run}, {"workflow", r->workflow},
                                  {"status", to_string(r->status)}, {"detail", r->detail}});
  if (auto* s = std::get_if<step_changed>(&e))
    return event_text(id, "step", {{"run", s->run}, {"step", s->step}, {"name", s->name},
                                   {"attempt", s->attempt}, {"outcome", to_string(s->outcome)}});
  auto& q = std::get<request_changed>(e);
  auto detail = json::parse(q.detail, nullptr, false);
  if (detail.is_discarded())
    detail = q.detail;  // not JSON (never from the gateway): still shown
  return event_text(id, "request", {{"kind", q.kind}, {"request", q.request}, {"run", q.run},
                                    {"detail", std::move(detail)}});
}

std::string_view run_of(const feed_event& e) {
  return std::visit([](auto& x) -> std::string_view { return x.run; }, e);
}

} // namespace

void coalesce(std::vector<feed_event>& batch) {
  std::set<std::pair<std::size_t, std::string_view>> seen;  // (kind index, run)
  std::vector<bool> keep(batch.size(), true);
  for (std::size_t i = batch.size(); i-- > 0;) {
    auto& e = batch[i];
    if (!std::holds_alternative<request_changed>(e))
      keep[i] = seen.emplace(e.index(), run_of(e)).second;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!keep[i])
      continue;
    if (kept != i)
      batch[kept] = std::move(batch[i]);
    ++kept;
  }
  batch.resize(kept);
}

void event_batch::add(const feed_event& e) {
  entry x;
  x.text = serialize(++next_id_, e);
  x.request = std::holds_alternative<request_changed>(e);
  x.step = std::holds_alternative<step_changed>(e);
  x.run = run_of(e);
  if (auto* r = std::get_if<run_changed>(&e))
    x.status = r->status;
  entries_.push_back(std::move(x));
}

bool event_batch::always(const entry& e, const step_filter& filter) {
  return e.request || (!filter.run.empty() && e.run == filter.run);
}

bool event_batch::wanted(const entry& e, const step_filter& filter) {
  return !e.step || filter.wants(e.run);
}

std::shared_ptr<const std::string> event_batch::for_filter(const step_filter& filter) {
  // A filter that asks for nothing of this batch beyond the plain one's
  // (no step event of it, not the run it follows) gets the plain text.
  bool own = false;
  for (auto& e : entries_)
    own |= !e.request && (e.step ? filter.wants(e.run) : always(e, filter));
  if (own)
    return build(filter);
  if (!plain_)
    plain_ = build({});
  return *plain_;
}

std::shared_ptr<const std::string> event_batch::build(const step_filter& filter) {
  std::size_t cuttable = 0;
  for (auto& e : entries_)
    cuttable += !always(e, filter) && wanted(e, filter);
  bool cut = cuttable > allowance_;
  std::string bytes;
  std::vector<const entry*> left_out;
  for (auto& e : entries_) {
    if (always(e, filter) || (!cut && wanted(e, filter)))
      bytes += e.text;
    else if (wanted(e, filter))
      left_out.push_back(&e);
  }
  if (!left_out.empty())
    bytes += summary(left_out);
  return bytes.empty() ? nullptr : std::make_shared<const std::string>(std::move(bytes));
}

std::string event_batch::summary(const std::vector<const entry*>& left_out) {
  std::map<std::string_view, run_status> latest;  // a run's last status among them
  std::set<std::string_view> runs;
  for (auto* e : left_out) {
    runs.insert(e->run);
    if (e->status)
      latest[e->run] = *e->status;
  }
  json statuses = json::object();
  for (auto& [run, status] : latest) {
    auto& n = statuses[std::string(to_string(status))];
    n = n.is_null() ? 1 : n.get<int>() + 1;
  }
  return event_text(++next_id_, "summary", {{"events", left_out.size()}, {"runs", runs.size()},
                                            {"statuses", std::move(statuses)}});
}

} // namespace endure::console::detail
