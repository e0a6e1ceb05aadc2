// The requests table read page by page, and the inbox's page through the
// request index (request_rows.hpp).
#include "endure/net/console/request_rows.hpp"

#include <algorithm>

#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/request_index.hpp"

namespace endure::console {

namespace {

constexpr std::size_t page_size = 1000;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

} // namespace

expected<request_listing> read_requests(const journal& j, std::string_view prefix) {
  request_listing out;
  std::string after;
  for (;;) {
    auto page = j.rows(side_table::requests, prefix, after, page_size);
    if (!page)
      return std::move(page).error();
    for (auto& [key, why] : page->damaged)
      out.damaged.emplace_back(key, why);
    for (auto& row : page->rows) {
      auto r = gateway::from_record(row.rec, row.key);
      if (r)
        out.requests.push_back(std::move(*r));
      else
        out.damaged.emplace_back(row.key, r.error());
    }
    if (page->rows.size() + page->damaged.size() < page_size)
      return out;
    after = page->rows.empty() ? std::string{} : page->rows.back().key;
    if (!page->damaged.empty())
      after = std::max(after, page->damaged.back().first);
  }
}

namespace {

/// Every row read and sorted: for a directory without the request index.
expected<inbox_page> scan_inbox(const journal& j, const inbox_query& q) {
  auto listing = read_requests(j);
  if (!listing)
    return std::move(listing).error();
  inbox_page out;
  out.damaged = std::move(listing->damaged);
  for (auto& r : listing->requests)
    if (r.status == gateway::request_status::pending
        && (q.principal.empty() || may_decide(r, q.principal)))
      out.requests.push_back(std::move(r));
  std::stable_sort(out.requests.begin(), out.requests.end(), [](auto& a, auto& b) {
    return a.created_ms < b.created_ms;
  });
  out.total = out.requests.size();
  if (out.requests.size() > q.limit)
    out.requests.resize(q.limit);
  return out;
}

/// The pending row an index entry names, or nullopt when the entry is
/// stale (the row moved on, or is gone). A damaged row goes to `damaged`.
expected<std::optional<gateway::human_request>> pending_row(const journal& j,
                                                            const gateway::index_entry& e,
                                                            inbox_page& out) {
  auto row = j.row(side_table::requests, e.id);
  if (!row && row.error().code != errc::corrupt_record)
    return std::move(row).error();
  if (!row) {
    out.damaged.emplace_back(e.id, row.error());
    return std::optional<gateway::human_request>{};
  }
  if (!*row)
    return std::optional<gateway::human_request>{};
  auto r = gateway::from_record(**row, e.id);
  if (!r) {
    out.damaged.emplace_back(e.id, r.error());
    return std::optional<gateway::human_request>{};
  }
  if (r->status != gateway::request_status::pending || r->created_ms != e.at_ms)
    return std::optional<gateway::human_request>{};
  return std::optional<gateway::human_request>{std::move(*r)};
}

} // namespace

expected<inbox_page> read_inbox(const journal& j, const inbox_query& q) {
  auto indexed = gateway::index_complete(j);
  if (!indexed)
    return std::move(indexed).error();
  if (!*indexed)
    return scan_inbox(j, q);
  // The whole table: LMDB's entry count, where counting 100,000 entries of
  // a prefix walked them (30-70 ms, mostly page faults on a fresh process).
  auto total = j.count_rows(side_table::pending_requests, "");
  if (!total)
    return std::move(total).error();
  inbox_page out;
  out.total = *total;
  out.exact = q.principal.empty();
  std::size_t matched = 0, skipped = 0;
  std::string after;
  for (;;) {
    auto want = std::clamp<std::size_t>(q.limit + 1, 64, page_size);
    auto page = j.rows(side_table::pending_requests, gateway::pending_prefix, after, want);
    if (!page)
      return std::move(page).error();
    for (auto& row : page->rows) {
      auto e = gateway::parse_index_key(row.key);
      if (!e)
        continue;
      auto r = pending_row(j, *e, out);
      if (!r)
        return std::move(r).error();
      if (!*r) {
        ++skipped;  // not pending (any more): not counted either
        continue;
      }
      if (!q.principal.empty() && !may_decide(**r, q.principal))
        continue;
      if (++matched > q.limit) {  // one past the page: enough to say there are more
        out.total = out.exact ? out.total - std::min(out.total, skipped) : matched;
        return out;
      }
      out.requests.push_back(std::move(**r));
    }
    if (page->rows.size() + page->damaged.size() < want)
      break;
    after = page->rows.empty() ? std::string{} : page->rows.back().key;
    if (!page->damaged.empty())
      after = std::max(after, page->damaged.back().first);
  }
  // Read to the end: every match was seen.
  out.total = out.exact ? out.total - std::min(out.total, skipped) : matched;
  out.exact = true;
  return out;
}

bool may_decide(const gateway::human_request& r, const std::string& principal) {
  auto eligible = gateway::eligible_principals(r);
  return eligible.empty()
         || std::find(eligible.begin(), eligible.end(), principal) != eligible.end();
}

nlohmann::json request_json(const gateway::human_request& r) {
  return nlohmann::json::from_msgpack(gateway::to_record(r).payload);
}

std::string why_text(const gateway::human_request& r) {
  if (r.kind == gateway::request_kind::question)
    return "the agent asks: " + r.arguments.value("question", std::string{});
  auto description = r.rule.value("description", std::string{});
  std::vector<std::string> matched;
  if (r.rule.contains("matched") && r.rule["matched"].is_array())
    for (auto& m : r.rule["matched"])
      if (m.is_string())
        matched.push_back(m.get<std::string>());
  auto because = matched.empty() ? "the policy gates every call of " + r.tool : joined(matched);
  return description.empty() ? because : description + " (" + because + ")";
}

std::string deciders_text(const gateway::human_request& r) {
  auto eligible = gateway::eligible_principals(r);
  return eligible.empty() ? std::string{"anyone"} : joined(eligible);
}

} // namespace endure::console
