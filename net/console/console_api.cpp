// The console API (console_api.hpp): authenticate, check the role, then
// route: the inbox, requests and decisions here, the runs in
// run_routes.cpp, events in event_stream.cpp, metrics in metrics_text.cpp.
// Every refusal is {"error", "message"} JSON; refusals at the door (401,
// 403) are logged with the client's address, since they never reach a
// request's audit trail.
#include "endure/net/console/console_api.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <shared_mutex>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/runtime.hpp"
#include "endure/net/auth/token_store.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/detail/api_request.hpp"
#include "endure/net/console/metrics_text.hpp"
#include "endure/net/console/request_confidence.hpp"
#include "endure/net/console/request_rows.hpp"
#include "endure/net/console/run_routes.hpp"
#include "endure/net/console/task_routes.hpp"
#include "endure/net/console/runtime_metric_families.hpp"
#include "endure/net/console/static_files.hpp"
#include "endure/persistence/log.hpp"

namespace endure::console {

namespace {

using namespace detail;
using net::auth::principal;
using net::auth::role;

constexpr std::string_view api_prefix = "/api/v1/";

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

/// GET /api/v1/events' query: which step events the stream gets.
expected<step_filter> step_filter_of(const target& t) {
  step_filter f;
  for (auto& [name, value] : t.query) {
    if (name == "steps" && (value == "all" || value == "none"))
      f.all = value == "all";
    else if (name == "run" && !value.empty())
      f.run = value;
    else
      return make_error(errc::invalid_argument,
                        "GET /api/v1/events takes ?run=ID (that run's step events too) or "
                        "?steps=all (every run's step events) or ?steps=none (the default: "
                        "run and request events only), not " + name + "=" + value);
  }
  if (f.all && !f.run.empty())
    return make_error(errc::invalid_argument, "GET /api/v1/events: give ?run=ID or ?steps=all, "
                                              "not both (steps=all has every run's)");
  return f;
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
  http_response open_events(const principal& who, const http_request& req, const target& t) {
    auto steps = step_filter_of(t);
    if (!steps)
      return from_error(steps.error());
    return events.open(std::move(*steps), [&store = tokens, header = req.authorization,
                                           name = who.name, address = req.remote_address] {
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
    // Either no answer within the limit, or the gateway's own: its run was
    // handed the decision and neither the run nor the gateway has journaled
    // it yet (the message says so, and that it stands).
    if (!result && result.error().code == errc::timeout)
      return error_response(503, "outcome_unknown",
                            result.error().message + "; GET /api/v1/requests/" + id
                              + " shows what is journaled: look before deciding again");
    if (!result)
      return from_error(result.error());
    return json_response(200, {{"result", *result}});
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
      return open_events(*who, req, t);
    if (get && route == "runs")
      return list_runs(*rt, t);
    if (get && route == "tasks")
      return list_tasks(*rt);
    if (get && route.rfind("tasks/", 0) == 0 && route.size() > 6)
      return task_route(*rt, decoded(std::string_view(route).substr(6), false));
    if (post && route == "runs")
      return start_run(*rt, *who, req, answer_limit);
    if ((get || post) && route.size() > runs_.size() && route.rfind(runs_, 0) == 0)
      return run_route(*rt, *who, std::string_view(route).substr(runs_.size()), req,
                       answer_limit);
    if (route.rfind(requests, 0) == 0 && route.size() > requests.size()) {
      std::string_view rest(route);
      rest.remove_prefix(requests.size());
      if (post && rest.size() > decision.size()
          && rest.substr(rest.size() - decision.size()) == decision)
        return decide(*rt, *who, decoded(rest.substr(0, rest.size() - decision.size()), false), req);
      if (get)
        return request(*rt, decoded(rest, false));
    }
    // Tasks are read-only: a POST there is the wrong method, not a wrong path.
    bool wrong_method = !(get || post) || (post && route.rfind("tasks", 0) == 0);
    auto r = error_response(wrong_method ? 405 : 404,
                            wrong_method ? "method_not_allowed" : "not_found",
                            req.method + " " + t.path + " is not part of the API; see "
                            "GET /api/v1/inbox, /api/v1/requests/ID, /api/v1/runs, "
                            "/api/v1/runs/ID, /api/v1/tasks, /api/v1/tasks/ID, /api/v1/events and "
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
