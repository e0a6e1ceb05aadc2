// The timeline's JSON form (timeline_json.hpp), moved here from `endure
// inspect` so the console answers with the same fields.
#include "endure/net/console/timeline_json.hpp"

#include <algorithm>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/withdraw.hpp"
#include "endure/actors/net_msgpack.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/net/console/journal_view.hpp"
#include "endure/net/console/json_value.hpp"

namespace endure::console {

namespace {

using json = nlohmann::json;

json usage_json(std::uint64_t prompt, std::uint64_t completion, double cost) {
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"cost_usd", cost}};
}

json attempt_json(const attempt_view& a) {
  json j{{"attempt", a.attempt}, {"outcome", a.outcome}, {"started_at_ms", a.started_ms},
         {"duration_us", a.duration_us}, {"seq", a.seq}};
  if (a.error_class) {
    j["error_class"] = std::string{to_string(*a.error_class)};
    j["message"] = a.message;
    j["http_status"] = a.http_status;
  }
  return j;
}

json step_json(std::uint64_t index, const step_view& s) {
  json attempts = json::array();
  for (auto& a : s.attempts)
    attempts.push_back(attempt_json(a));
  json result = nullptr;
  if (s.result)
    result = result_summary(s, 200);
  json step{{"index", index}, {"name", s.name}, {"attempts", attempts}, {"result", result}};
  if (!s.usage.empty()) {
    step["usage"] = usage_json(s.usage.prompt_tokens, s.usage.completion_tokens,
                               s.usage.cost_usd);
    step["usage"]["model"] = s.usage.model;
  }
  return step;
}

json request_json(const gateway::human_request& r) {
  json outcome = nullptr;
  if (r.outcome)
    outcome = {{"decision", gateway::to_string(r.outcome->what)},
               {"principals", r.outcome->principals}, {"at_ms", r.outcome->at_ms},
               {"channel", r.outcome->channel}, {"text", r.outcome->text}};
  return {{"id", r.id}, {"kind", gateway::to_string(r.kind)}, {"tool", r.tool},
          {"status", gateway::to_string(r.status)}, {"created_ms", r.created_ms},
          {"outcome", outcome}};
}

} // namespace

expected<json> run_requests_json(const journal& j, const std::string& run_id) {
  constexpr std::size_t page_size = 1000;
  json out = json::array();
  std::string after;
  for (;;) {  // ends: each page starts past the last key of the one before
    auto page = j.rows(side_table::requests, run_id + "/", after, page_size);
    if (!page)
      return page.error();
    std::vector<std::pair<std::string, json>> keyed;
    for (auto& row : page->rows) {
      // A run id may hold '/', so run "a" sees the rows of run "a/b" under
      // its prefix: keep only its own.
      if (gateway::run_of_request(row.key) != run_id)
        continue;
      auto r = gateway::from_record(row.rec, row.key);
      keyed.emplace_back(row.key, r ? request_json(*r)
                                    : json{{"id", row.key}, {"error", r.error().message}});
    }
    for (auto& [key, why] : page->damaged)
      keyed.emplace_back(key, json{{"id", key}, {"error", why.message}});
    std::sort(keyed.begin(), keyed.end(),
              [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& [_, row] : keyed)
      out.push_back(std::move(row));
    if (keyed.size() < page_size)
      return out;
    after = keyed.back().first;
  }
}

std::string result_summary(const step_view& s, std::size_t max) {
  if (!s.result)
    return "(no result)";
  if (!s.usage.empty()) {
    try {
      return summarise(to_bytes(from_bytes<net::chat_response>(*s.result).content), max);
    } catch (const std::exception&) {
      // not a chat answer after all: show it as it is
    }
  }
  return summarise(*s.result, max);
}

json timeline_json(const run_meta& m, const run_timeline& t) {
  json steps = json::array();
  for (auto& [index, s] : t.steps)
    steps.push_back(step_json(index, s));
  json out{{"run", m.id}, {"workflow", m.workflow}, {"status", std::string{to_string(m.status)}},
           {"detail", m.detail}, {"created_at_ms", m.created_at_ms},
           {"updated_at_ms", m.updated_at_ms}, {"input", summarise(t.input, 200)},
           {"steps", steps}, {"signals", t.signals}, {"releases", t.releases},
           {"usage", usage_json(t.usage.prompt_tokens, t.usage.completion_tokens,
                                t.usage.cost_usd)}};
  out["usage"]["llm_calls"] = t.usage.steps.size();
  if (t.finished) {
    out["finished"] = {{"status", std::string{to_string(t.finished->status)}},
                       {"result", summarise(t.finished->result, 200)},
                       {"error", t.finished->error}};
    // The whole result as JSON, as `endure run` prints it (json_value.hpp).
    if (auto value = msgpack_to_json(t.finished->result);
        value && t.finished->status == run_status::completed)
      out["finished"]["value"] = json::parse(*value);
  }
  return out;
}

} // namespace endure::console
