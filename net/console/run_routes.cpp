// The runs half of the console's API (run_routes.hpp).
#include "endure/net/console/run_routes.hpp"

#include <algorithm>
#include <future>

#include "endure/actors/gateway/duration.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/actors/runtime.hpp"
#include "endure/net/auth/token_store.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/journal_view.hpp"
#include "endure/net/console/json_value.hpp"
#include "endure/net/console/request_rows.hpp"
#include "endure/net/console/run_timeline.hpp"
#include "endure/net/console/start_input.hpp"
#include "endure/net/console/timeline_json.hpp"
#include "endure/persistence/log.hpp"

namespace endure::console {

using namespace detail;
using net::auth::principal;

namespace {

/// ?older_than=D&newer_than=D (D as policies write durations: 90s, 30m,
/// 2h, 1d): the runs whose age (since they started) is within.
struct age_window {
  std::optional<std::int64_t> min_ms, max_ms;
  bool admits(std::int64_t age_ms) const {
    return (!min_ms || age_ms >= *min_ms) && (!max_ms || age_ms < *max_ms);
  }
};

expected<age_window> age_window_of(const target& t) {
  age_window w;
  for (auto [name, bound] : {std::pair{"older_than", &w.min_ms}, std::pair{"newer_than", &w.max_ms}}) {
    auto it = t.query.find(name);
    if (it == t.query.end())
      continue;
    auto d = gateway::parse_duration(it->second);
    if (!d)
      return make_error(errc::invalid_argument,
                        std::string(name) + "=" + it->second + ": " + d.error().message);
    *bound = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  }
  return w;
}

http_response no_run(const std::string& id) {
  return error_response(404, "not_found",
                        "no run " + id + "; GET /api/v1/runs lists the runs there are");
}

/// The run's status as the journal holds it now: {"run", "status"}.
http_response run_status_response(runtime& rt, const std::string& id) {
  auto meta = rt.store().run(id);
  if (!meta)
    return from_error(meta.error());
  return json_response(200, {{"run", id}, {"status", std::string{to_string(meta->status)}}});
}

/// Starts the run through start_async, waiting at most the answer limit, as `endure serve`'s control channel does (cli/run_control.cpp):
/// a runtime that never answers must not hold the connection's thread; the
/// journal then says whether the run is durable, which is what start means.
expected<run_status> start_bounded(runtime& rt, const std::string& workflow,
                                   const std::string& id, std::string input,
                                   std::chrono::milliseconds start_answer_limit) {
  auto answer = std::make_shared<std::promise<expected<run_status>>>();
  auto status = answer->get_future();
  rt.start_async(workflow, id, std::move(input),
                 [answer](expected<run_status> s) { answer->set_value(std::move(s)); });
  if (status.wait_for(start_answer_limit) == std::future_status::ready)
    return status.get();
  auto existing = existing_run_status(rt.store(), id, workflow);
  if (existing || existing.error().code == errc::invalid_state)
    return existing;
  return make_error(errc::timeout, "start run " + id + ": no answer in time");
}

/// What an admin action journals as its reason: always who and from where,
/// which the body cannot leave out or forge.
std::string audited_reason(const std::optional<std::string>& reason, const principal& who,
                           const http_request& req) {
  auto origin = who.name + " over HTTP from " + req.remote_address;
  return reason ? *reason + " (" + origin + ")" : origin;
}

http_response show_run(runtime& rt, const std::string& id) {
  auto meta = rt.store().run(id);
  if (!meta && meta.error().code == errc::not_found)
    return no_run(id);
  if (!meta)
    return from_error(meta.error());
  auto events = read_events(rt.store(), id);
  if (!events)  // a damaged record: the message names run and seq
    return from_error(events.error());
  auto asked = run_requests_json(rt.store(), id);
  if (!asked)
    return from_error(asked.error());
  auto out = timeline_json(*meta, build_timeline(*events));
  out["requests"] = std::move(*asked);
  return json_response(200, out);
}

/// signal, cancel or release. The run's status is checked first with the
/// journal path's rule (refusal()), so the answer says what `endure
/// signal|cancel|release` would; a refusal of the runtime's own (the
/// status changed in between) is reported for the status then stored.
http_response act_on_run(runtime& rt, const principal& who, const std::string& id,
                         run_request kind, const http_request& req,
                         std::chrono::milliseconds answer_limit) {
  auto body = object_body(req);
  if (!body)
    return not_an_object(kind == run_request::signal ? R"({"name": "N", "payload": ...})"
                                                     : R"({"reason": "why"})");
  auto name = string_field(*body, "name");
  auto reason = string_field(*body, "reason");
  if (!name || !reason)
    return from_error(!name ? name.error() : reason.error());
  if (kind == run_request::signal && (!*name || (*name)->empty()))
    return error_response(400, "invalid_argument",
                          "a signal needs \"name\" (a string) and may have \"payload\" (JSON)");
  auto meta = rt.store().run(id);
  if (!meta && meta.error().code == errc::not_found)
    return no_run(id);
  if (!meta)
    return from_error(meta.error());
  if (auto why = refusal(kind, id, meta->status); !why.empty())
    return error_response(409, "invalid_state", why);
  auto why = audited_reason(*reason, who, req);
  expected<void> done;
  if (kind == run_request::signal) {
    auto payload = json_to_msgpack(body->value("payload", json("")).dump());
    if (!payload)
      return from_error(payload.error());
    done = rt.signal_raw(id, **name, *payload, answer_limit);
  } else if (kind == run_request::cancel) {
    done = rt.cancel(id, why, answer_limit);
  } else {
    done = rt.release(id, why, answer_limit);
  }
  if (!done && done.error().code == errc::timeout)
    return unknown_outcome("the " + std::string(kind == run_request::signal ? "signal"
                                                : kind == run_request::cancel ? "cancel"
                                                                              : "release"),
                           answer_limit, "GET /api/v1/runs/" + id);
  if (!done) {
    auto code = done.error().code;
    auto now = rt.store().run(id);
    if ((code == errc::invalid_state || code == errc::not_found) && now)
      if (auto refused = refusal(kind, id, now->status); !refused.empty())
        return error_response(409, "invalid_state", refused);
    return from_error(done.error());
  }
  log::warn("console audit: " + who.name + " sent " +
            (kind == run_request::signal ? "signal " + **name
                                         : std::string(kind == run_request::cancel ? "cancel"
                                                                                   : "release")) +
            " to run " + id + " from " + req.remote_address);
  return run_status_response(rt, id);
}

} // namespace

http_response list_runs(runtime& rt, const target& t) {
  auto limit = limit_of(t);
  if (!limit)
    return from_error(limit.error());
  std::optional<run_status> status;
  if (auto it = t.query.find("status"); it != t.query.end()) {
    status = parse_run_status(it->second);
    if (!status)
      return error_response(400, "invalid_argument",
                            "unknown status '" + it->second +
                              "'; use running, waiting, completed, failed, cancelled or "
                              "quarantined");
  }
  bool human_only = false;
  if (auto it = t.query.find("waiting_for_human"); it != t.query.end()) {
    if (it->second != "true")
      return error_response(400, "invalid_argument",
                            "waiting_for_human takes only true, not '" + it->second + "'");
    if (status && *status != run_status::waiting)
      return json_response(200, {{"runs", json::array()}, {"next", nullptr}});
    human_only = true;
    status = run_status::waiting;
  }
  auto listed = rt.store().list_runs(status);
  if (!listed)
    return from_error(listed.error());
  auto& all = *listed;
  // ?workflow=, ?older_than=, ?newer_than=: the metas are read already,
  // so filtering them costs nothing more.
  if (auto w = t.query.find("workflow"); w != t.query.end())
    all.erase(std::remove_if(all.begin(), all.end(),
                             [&](const run_meta& m) { return m.workflow != w->second; }),
              all.end());
  auto ages = age_window_of(t);
  if (!ages)
    return from_error(ages.error());
  auto now = now_ms();
  all.erase(std::remove_if(all.begin(), all.end(),
                           [&](const run_meta& m) { return !ages->admits(now - m.created_at_ms); }),
            all.end());
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
  auto after = t.query.count("after") ? t.query.at("after") : std::string{};
  auto it = std::upper_bound(all.begin(), all.end(), after,
                             [](const std::string& a, const run_meta& m) { return a < m.id; });
  json rows = json::array();
  for (; it != all.end() && rows.size() < *limit; ++it) {
    // Waiting for a person, not a timer or a signal: a pending request.
    // Read only for the runs this page gets to, so a page costs its own.
    if (human_only) {
      auto asked = read_requests(rt.store(), it->id + "/");
      if (!asked)
        return from_error(asked.error());
      // The prefix also matches runs "ID/..." (a run id may hold '/').
      if (std::none_of(asked->requests.begin(), asked->requests.end(), [&](auto& r) {
            return r.run_id == it->id && r.status == gateway::request_status::pending;
          }))
        continue;
    }
    rows.push_back({{"id", it->id}, {"workflow", it->workflow},
                    {"status", to_string(it->status)}, {"created_ms", it->created_at_ms},
                    {"updated_ms", it->updated_at_ms}, {"detail", it->detail}});
  }
  json next = it == all.end() ? json(nullptr) : json(rows.back()["id"]);
  return json_response(200, {{"runs", rows}, {"next", next}});
}

http_response start_run(runtime& rt, const principal& who, const http_request& req,
                        std::chrono::milliseconds answer_limit) {
  constexpr std::string_view example =
    R"({"workflow": "NAME", "id": "RUN", "input": ...})";
  auto body = object_body(req);
  if (!body)
    return not_an_object(example);
  auto workflow = string_field(*body, "workflow");
  auto id = string_field(*body, "id");
  if (!workflow || !id)
    return from_error(!workflow ? workflow.error() : id.error());
  if (!*workflow || !*id)
    return error_response(400, "invalid_argument",
                          "the body needs \"workflow\" and \"id\" (strings), e.g. " +
                            std::string(example));
  std::optional<std::string> input;
  if (body->contains("input"))
    input = (*body)["input"].dump();
  auto bytes = start_input(rt.workflows(), **workflow, input, "\"input\"");
  if (!bytes)
    return from_error(bytes.error());
  auto status = start_bounded(rt, **workflow, **id, std::move(*bytes), answer_limit);
  if (!status && status.error().code == errc::timeout)
    return unknown_outcome("starting run " + **id, answer_limit, "GET /api/v1/runs/" + **id);
  if (!status)
    return from_error(status.error());
  // warn: `endure serve` logs at warn, and who started what must be seen there
  log::warn("console audit: " + who.name + " started run " + **id + " of " + **workflow +
            " from " + req.remote_address);
  return json_response(200, {{"run", **id}, {"status", std::string{to_string(*status)}}});
}

/// runs/ID[/signal|/cancel|/release], after "runs/".
http_response run_route(runtime& rt, const principal& who, std::string_view rest,
                        const http_request& req, std::chrono::milliseconds answer_limit) {
  if (reads(req))
    return show_run(rt, decoded(rest, false));
  for (auto [suffix, kind] : {std::pair{std::string_view("/signal"), run_request::signal},
                              std::pair{std::string_view("/cancel"), run_request::cancel},
                              std::pair{std::string_view("/release"), run_request::release}})
    if (rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix)
      return act_on_run(rt, who, decoded(rest.substr(0, rest.size() - suffix.size()), false), kind, req,
                          answer_limit);
  return error_response(404, "not_found",
                        "POST /api/v1/runs/ID takes /signal, /cancel or /release");
}

} // namespace endure::console
