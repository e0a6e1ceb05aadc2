// The console API's routes (console_api.hpp): authenticate, check the role,
// then read the journal or decide through the runtime. Every refusal is
// {"error", "message"} JSON; refusals at the door (401, 403) are logged with
// the client's address, since they never reach a request's audit trail.
#include "endure/net/console/console_api.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/duration.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/actors/runtime.hpp"
#include "endure/net/auth/token_store.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/journal_view.hpp"
#include "endure/net/console/json_value.hpp"
#include "endure/net/console/metrics_text.hpp"
#include "endure/net/console/request_confidence.hpp"
#include "endure/net/console/request_rows.hpp"
#include "endure/net/console/run_timeline.hpp"
#include "endure/net/console/runtime_metric_families.hpp"
#include "endure/net/console/start_input.hpp"
#include "endure/net/console/static_files.hpp"
#include "endure/net/console/timeline_json.hpp"
#include "endure/persistence/log.hpp"

namespace endure::console {

namespace {

using json = nlohmann::json;
using net::auth::principal;
using net::auth::role;

constexpr std::string_view api_prefix = "/api/v1/";
constexpr std::size_t default_limit = 100;
constexpr std::size_t max_limit = 1000;

http_response json_response(int status, const json& body) {
  http_response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

/// The HTTP status for an error of the runtime or the journal.
int status_of(errc code) {
  switch (code) {
    case errc::invalid_argument: return 400;
    case errc::permission_denied: return 403;
    case errc::not_found: return 404;
    case errc::invalid_state: return 409;
    case errc::shut_down: return 503;
    default: return 500;
  }
}

std::string code_name(int status) {
  switch (status) {
    case 400: return "invalid_argument";
    case 403: return "permission_denied";
    case 404: return "not_found";
    case 409: return "invalid_state";
    case 503: return "shut_down";
    default: return "internal_error";
  }
}

http_response from_error(const error& e) {
  auto status = status_of(e.code);
  return error_response(status, code_name(status), e.message);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// %XX decoded (and '+' as a space in a query); a bad escape stays as it is.
std::string decoded(std::string_view s, bool query) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += (query && s[i] == '+') ? ' ' : s[i];
    }
  }
  return out;
}

struct target {
  std::string path;  ///< still percent-encoded: a request id may hold "/" as %2F
  std::map<std::string, std::string> query;
};

target split_target(std::string_view t) {
  target out;
  auto q = t.find('?');
  out.path = std::string(t.substr(0, q));
  if (q == std::string_view::npos)
    return out;
  auto rest = t.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    auto name = decoded(pair.substr(0, eq), true);
    out.query[name] = eq == std::string_view::npos ? "" : decoded(pair.substr(eq + 1), true);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return out;
}

/// ?limit=: default 100, 1 to 1000.
expected<std::size_t> limit_of(const target& t) {
  auto it = t.query.find("limit");
  if (it == t.query.end())
    return default_limit;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  if (ec != std::errc{} || end != it->second.data() + it->second.size() || n < 1 || n > max_limit)
    return make_error(errc::invalid_argument, "limit must be a whole number from 1 to " +
                                                std::to_string(max_limit) + ", not '" +
                                                it->second + "'");
  return n;
}

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

/// The JSON schema of `tool`'s arguments, so the page can build an edit
/// form; null when the console was given no tools or the tool is not one
/// of them (ask_human's questions, a tool since removed).
json schema_of(const agent::tool_registry* tools, const std::string& tool) {
  auto* found = tools ? tools->find(tool) : nullptr;
  return found ? found->parameters : json(nullptr);
}

/// The request in the form the API shows: what a reviewer needs to decide.
json request_view(const gateway::human_request& r, const agent::tool_registry* tools) {
  json out = {{"id", r.id},
              {"run", r.run_id},
              {"kind", gateway::to_string(r.kind)},
              {"tool", r.tool},
              {"arguments", r.arguments},
              {"schema", schema_of(tools, r.tool)},
              {"why", why_text(r)},
              {"status", gateway::to_string(r.status)},
              {"eligible", gateway::eligible_principals(r)},
              {"approved_by", r.approved_by},
              {"created_ms", r.created_ms},
              {"due_ms", r.due_ms == 0 ? json(nullptr) : json(r.due_ms)},
              {"outcome", nullptr},
              {"audit", json::array()}};
  if (r.outcome) {
    auto& o = *r.outcome;
    out["outcome"] = {{"decision", gateway::to_string(o.what)}, {"principals", o.principals},
                      {"at_ms", o.at_ms}, {"channel", o.channel}, {"text", o.text},
                      {"edited_arguments", o.edited_arguments}, {"delivered", r.delivered}};
  }
  for (auto& a : r.audit)
    out["audit"].push_back({{"at_ms", a.at_ms}, {"principal", a.principal},
                            {"channel", a.channel}, {"action", a.action},
                            {"outcome", a.outcome}});
  return out;
}

json damaged_view(const std::vector<std::pair<std::string, error>>& damaged) {
  json out = json::array();
  for (auto& [id, why] : damaged)
    out.push_back({{"id", id}, {"error", why.message}});
  return out;
}

/// The decision's payload for runtime::decide, from the fields that belong
/// to it; anything else in the body (a "principal", a "by") is ignored.
json payload_of(const json& body) {
  json payload = json::object();
  for (auto* field : {"arguments", "reason", "text"})
    if (body.contains(field))
      payload[field] = body[field];
  return payload;
}

/// How deep a body's JSON may nest. The parser itself is iterative, but
/// what handles the value afterwards (dump, msgpack, the schema check)
/// recurses: a 64 KiB body of brackets would otherwise run a handler
/// thread out of stack.
constexpr int max_body_depth = 64;

/// The body as a JSON object; nullopt if it is not one (or nests deeper
/// than max_body_depth).
std::optional<json> object_body(const http_request& req) {
  bool too_deep = false;
  auto limit = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep |= depth > max_body_depth;
    return !too_deep;
  };
  auto body = json::parse(req.body, limit, false);
  if (too_deep || body.is_discarded() || !body.is_object())
    return std::nullopt;
  return body;
}

http_response not_an_object(std::string_view example) {
  return error_response(400, "malformed_json",
                        "the body must be a JSON object such as " + std::string(example)
                          + ", nested at most " + std::to_string(max_body_depth) + " deep");
}

/// Field `name` of `body` as a string: nullopt if absent (or null), an
/// error if it is there but not a string.
expected<std::optional<std::string>> string_field(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null())
    return std::optional<std::string>{};
  if (!body[name].is_string())
    return make_error(errc::invalid_argument,
                      std::string("\"") + name + "\" must be a string, not " + body[name].dump());
  return std::optional<std::string>{body[name].get<std::string>()};
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

/// Starts the run through start_async, waiting at most 30 s for the
/// answer, as `endure serve`'s control channel does (cli/run_control.cpp):
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
  if (auto meta = rt.store().run(id))
    return meta->status;
  return make_error(errc::timeout, "start run " + id + ": no answer in time");
}

/// 503 for a runtime call that timed out (runtime.hpp's answer_limit): it
/// may still take effect, so say where the truth will be.
http_response unknown_outcome(const std::string& what, std::chrono::milliseconds limit,
                              const std::string& where) {
  return error_response(503, "outcome_unknown",
                        "the runtime did not answer within " + std::to_string(limit.count()) +
                          " ms, so whether " + what + " took effect is unknown; " + where +
                          " shows it, then retry if needed");
}

/// The principal of `header` (`Bearer TOKEN`), the token file re-read if
/// it changed (so a revoke counts at once).
expected<principal> authenticate_bearer(net::auth::token_store& tokens, std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size()
      || !std::equal(scheme.begin(), scheme.end(), header.begin(),
                     [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    return make_error(errc::permission_denied,
                      "no bearer token: send `Authorization: Bearer TOKEN` (`endure token "
                      "create NAME --role ROLE` makes one)");
  (void) tokens.refresh();  // on failure authenticate() refuses every token, with the reason
  return tokens.authenticate(header.substr(scheme.size()));
}

/// GET and HEAD read alike (the server drops a HEAD answer's body).
bool reads(const http_request& req) {
  return req.method == "GET" || req.method == "HEAD";
}

/// The methods an API route takes (route after "/api/v1/"), for a 405's
/// Allow header.
std::string allowed_methods(std::string_view route) {
  auto ends_with = [&](std::string_view tail) {
    return route.size() > tail.size() && route.substr(route.size() - tail.size()) == tail;
  };
  if (route == "runs")
    return "GET, HEAD, POST";
  if (route.rfind("requests/", 0) == 0 && ends_with("/decision"))
    return "POST";
  if (route.rfind("runs/", 0) == 0 && (ends_with("/signal") || ends_with("/cancel")
                                       || ends_with("/release")))
    return "POST";
  return "GET, HEAD";
}

/// What an admin action journals as its reason: always who and from where,
/// which the body cannot leave out or forge.
std::string audited_reason(const std::optional<std::string>& reason, const principal& who,
                           const http_request& req) {
  auto origin = who.name + " over HTTP from " + req.remote_address;
  return reason ? *reason + " (" + origin + ")" : origin;
}

} // namespace

struct console_api::state {
  state(net::auth::token_store& t, std::chrono::milliseconds limit, event_stream_options o)
    : tokens(t), answer_limit(limit), events(o) {}
  net::auth::token_store& tokens;
  const std::chrono::milliseconds answer_limit;
  std::shared_ptr<const agent::tool_registry> tools;  // may be null; guarded by mutex too
  std::shared_mutex mutex;  // guards rt: shared while a request uses it
  runtime* rt = nullptr;
  std::atomic<bool> ready{false};  // rt is set: read by /readyz without the lock
  event_hub events;  // GET /api/v1/events, over rt's feed

  // -- authentication ----------------------------------------------------------

  expected<principal> authenticate(const http_request& req) {
    return authenticate_bearer(tokens, req.authorization);
  }

  /// GET /api/v1/events: the stream asks again, while open, whether the
  /// token still authenticates (event_stream.hpp), so a revoke ends it.
  /// The hub drops the check at detach, before the tokens may go.
  http_response open_events(const principal& who, const http_request& req) {
    return events.open([&store = tokens, header = req.authorization, name = who.name,
                        address = req.remote_address] {
      if (authenticate_bearer(store, header))
        return true;
      log::warn("console audit: ended the event stream of " + name + " from " + address +
                ": its token no longer authenticates");
      return false;
    });
  }

  http_response unauthorized(const http_request& req, const error& e) {
    log::warn("console audit: refused " + req.method + " " + req.target + " from " +
              req.remote_address + ": " + e.message);
    if (e.code != errc::permission_denied)  // the token file cannot be read: not the client's fault
      return error_response(503, "tokens_unavailable",
                            "tokens cannot be checked now; the server's log says why");
    auto r = error_response(401, "unauthorized", e.message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }

  std::optional<http_response> forbidden(const http_request& req, const principal& who,
                                         role needed) {
    if (net::auth::role_allows(who.granted, needed))
      return std::nullopt;
    auto message = who.name + " is a " + std::string(net::auth::to_string(who.granted)) +
                   "; this needs the " + std::string(net::auth::to_string(needed)) +
                   " role (`endure token create` gives a token a role)";
    log::warn("console audit: refused " + req.method + " " + req.target + " from " +
              req.remote_address + ": " + message);
    return error_response(403, "forbidden", message);
  }

  // -- routes ------------------------------------------------------------------

  http_response inbox(runtime& rt, const principal& who, const target& t) {
    auto limit = limit_of(t);
    if (!limit)
      return from_error(limit.error());
    auto page = read_inbox(rt.store(), {who.name, *limit});
    if (!page)
      return from_error(page.error());
    json rows = json::array();
    for (auto& r : page->requests)
      rows.push_back(request_view(r, tools.get()));
    return json_response(200, {{"requests", rows}, {"total", page->total},
                               {"exact", page->exact}, {"damaged", damaged_view(page->damaged)}});
  }

  http_response request(runtime& rt, const std::string& id) {
    auto row = rt.store().row(side_table::requests, id);
    if (!row)
      return from_error(row.error());
    if (!*row)
      return error_response(404, "not_found",
                            "no request " + id + "; GET /api/v1/inbox lists the pending ones");
    auto r = gateway::from_record(**row, id);
    if (!r)
      return from_error(r.error());
    auto out = request_view(*r, tools.get());
    if (auto said = request_confidence(rt.store(), id))  // one request: its run's journal is read
      out["confidence"] = *said;
    return json_response(200, out);
  }

  http_response decide(runtime& rt, const principal& who, const std::string& id,
                       const http_request& req) {
    auto parsed = object_body(req);
    if (!parsed)
      return not_an_object("{\"decision\": \"approve\"}");
    auto& body = *parsed;
    if (!body.contains("decision") || !body["decision"].is_string())
      return error_response(400, "invalid_argument",
                            "the body needs \"decision\": one of approve, edit (with "
                            "\"arguments\"), reject (with \"reason\"), respond (with \"text\")");
    auto result = rt.decide(id, who.name, body["decision"].get<std::string>(),
                            payload_of(body).dump(), "http " + req.remote_address, answer_limit);
    if (!result && result.error().code == errc::timeout)
      return unknown_outcome("the decision", answer_limit, "GET /api/v1/requests/" + id);
    if (!result)
      return from_error(result.error());
    return json_response(200, {{"result", *result}});
  }

  http_response runs(runtime& rt, const target& t) {
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

  http_response run(runtime& rt, const std::string& id) {
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

  http_response start(runtime& rt, const principal& who, const http_request& req) {
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

  /// signal, cancel or release. The run's status is checked first with the
  /// journal path's rule (refusal()), so the answer says what `endure
  /// signal|cancel|release` would; a refusal of the runtime's own (the
  /// status changed in between) is reported for the status then stored.
  http_response act(runtime& rt, const principal& who, const std::string& id,
                    run_request kind, const http_request& req) {
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

  /// runs/ID[/signal|/cancel|/release], after "runs/".
  http_response run_route(runtime& rt, const principal& who, std::string_view rest,
                          const http_request& req) {
    if (reads(req))
      return run(rt, decoded(rest, false));
    for (auto [suffix, kind] : {std::pair{std::string_view("/signal"), run_request::signal},
                                std::pair{std::string_view("/cancel"), run_request::cancel},
                                std::pair{std::string_view("/release"), run_request::release}})
      if (rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix)
        return act(rt, who, decoded(rest.substr(0, rest.size() - suffix.size()), false), kind,
                   req);
    return error_response(404, "not_found",
                          "POST /api/v1/runs/ID takes /signal, /cancel or /release");
  }

  /// GET /metrics: Prometheus text (metrics_text.hpp), viewer role.
  http_response metrics(const http_request& req) {
    auto who = authenticate(req);
    if (!who)
      return unauthorized(req, who.error());
    if (auto refused = forbidden(req, *who, role::viewer))
      return *refused;
    if (!reads(req)) {
      auto r = error_response(405, "method_not_allowed", "/metrics takes GET (or HEAD)");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    std::shared_lock lock(mutex);
    if (!rt)
      return error_response(503, "shut_down", "the runtime is not open (starting or stopping); "
                                              "try again shortly");
    http_response r;
    r.content_type = metrics_content_type;
    r.body = render_metrics(runtime_metric_families(rt->metrics()));
    return r;
  }

  http_response api(const http_request& req, const target& t) {
    auto who = authenticate(req);
    if (!who)
      return unauthorized(req, who.error());
    std::shared_lock lock(mutex);
    if (!rt)
      return error_response(503, "shut_down", "the runtime is not open (starting or stopping); "
                                              "try again shortly");
    auto route = t.path.substr(api_prefix.size());
    bool get = reads(req), post = req.method == "POST";
    constexpr std::string_view requests = "requests/", decision = "/decision", runs_ = "runs/";
    // Deciding is an approver's; starting and steering runs an admin's.
    bool on_runs = route == "runs" || route.rfind(runs_, 0) == 0;
    role needed = !post ? role::viewer : on_runs ? role::admin : role::approver;
    if (auto refused = forbidden(req, *who, needed); refused && (get || post))
      return *refused;
    if (get && route == "inbox")
      return inbox(*rt, *who, t);
    if (get && route == "events")
      return open_events(*who, req);
    if (get && route == "runs")
      return runs(*rt, t);
    if (post && route == "runs")
      return start(*rt, *who, req);
    if ((get || post) && route.size() > runs_.size() && route.rfind(runs_, 0) == 0)
      return run_route(*rt, *who, std::string_view(route).substr(runs_.size()), req);
    if (route.rfind(requests, 0) == 0 && route.size() > requests.size()) {
      std::string_view rest(route);
      rest.remove_prefix(requests.size());
      if (post && rest.size() > decision.size()
          && rest.substr(rest.size() - decision.size()) == decision)
        return decide(*rt, *who, decoded(rest.substr(0, rest.size() - decision.size()), false), req);
      if (get)
        return request(*rt, decoded(rest, false));
    }
    auto r = error_response(get || post ? 404 : 405,
                            get || post ? "not_found" : "method_not_allowed",
                            req.method + " " + t.path + " is not part of the API; see "
                            "GET /api/v1/inbox, /api/v1/requests/ID, /api/v1/runs, "
                            "/api/v1/runs/ID, /api/v1/events and "
                            "POST /api/v1/requests/ID/decision, /api/v1/runs, "
                            "/api/v1/runs/ID/signal|cancel|release (HEAD as GET)");
    if (r.status == 405)
      r.headers.emplace_back("Allow", allowed_methods(route));
    return r;
  }
};

console_api::console_api(net::auth::token_store& tokens,
                         std::chrono::milliseconds runtime_answer_limit,
                         event_stream_options events)
  : state_(std::make_unique<state>(tokens, runtime_answer_limit, events)) {}

console_api::~console_api() = default;

void console_api::attach(runtime& rt) {
  std::unique_lock lock(state_->mutex);
  state_->rt = &rt;
  state_->ready = true;
  state_->events.attach(rt.events());
}

void console_api::detach() {
  state_->ready = false;  // before the wait: /readyz says so at once
  std::unique_lock lock(state_->mutex);
  state_->rt = nullptr;
  state_->events.detach();
}

void console_api::set_tools(std::shared_ptr<const agent::tool_registry> tools) {
  std::unique_lock lock(state_->mutex);
  state_->tools = std::move(tools);
}

std::optional<http_response> console_api::answer_now(const http_request& req) {
  auto t = split_target(req.target);
  if (t.path == "/healthz")
    return json_response(200, {{"status", "ok"}});
  if (t.path == "/readyz")
    return state_->ready ? json_response(200, {{"status", "ready"}})
                         : error_response(503, "not_ready",
                                          "the runtime is not open yet (or is stopping); retry");
  if (auto file = static_file(req.method, t.path))  // in memory: no reason to queue it
    return file;
  return std::nullopt;
}

http_response console_api::handle(const http_request& req) {
  if (auto now = answer_now(req))
    return std::move(*now);
  auto t = split_target(req.target);
  if (t.path.rfind(api_prefix, 0) == 0)
    return state_->api(req, t);
  if (t.path == "/metrics")
    return state_->metrics(req);
  return error_response(404, "not_found", "no route " + t.path + "; the API is under /api/v1/");
}

} // namespace endure::console
