// The console's HTTP API (issue 16): routes, authentication and the JSON
// forms, over the runtime and its human gateway. The server
// (console_server.hpp) hands it each request; it answers without Beast.
//
//   GET  /healthz                           200, no token
//   GET  /readyz                            200 once a runtime is attached, else 503
//   GET  /metrics                           viewer: Prometheus text (runtime_metric_families.hpp)
//   GET  /api/v1/inbox[?limit=N]            viewer: pending requests the caller may decide
//   GET  /api/v1/requests/ID                viewer: one request with its audit trail
//                                           (and its tool's "schema", as the inbox rows, and
//                                           the model's "confidence" when its turn stated one)
//   POST /api/v1/requests/ID/decision       approver: {"decision": ..., "arguments" | "reason" | "text"}
//   GET  /api/v1/runs[?status=&workflow=&waiting_for_human=true&older_than=&newer_than=&limit=&after=]
//                                           viewer: runs by id, paged (ages as 90s, 30m, 2h, 1d)
//   GET  /api/v1/runs/ID                    viewer: the run's timeline (timeline_json.hpp)
//   POST /api/v1/runs                       admin: {"workflow", "id", "input"} starts a run
//   POST /api/v1/runs/ID/signal|cancel|release  admin: {"name", "payload"} | {"reason"}
//   GET  /api/v1/events[?run=ID|?steps=all] viewer: live events as Server-Sent Events (step
//                                           events of that run, or of all, only if asked)
//
//   GET  /, /index.html, /app.js, ...      no token: the web page (static_files.hpp)
//
// Authentication: `Authorization: Bearer TOKEN`, checked against the token
// store (refreshed per request, so a revoke takes effect at once). The
// deciding principal is the token's; names in a body are ignored. A
// decision goes to runtime::decide with channel "http ADDRESS". Run
// actions (cancel, release) journal the reason "PRINCIPAL over HTTP from
// ADDRESS", or "REASON (PRINCIPAL over HTTP from ADDRESS)" when the body
// gives one. Starts, signals, cancels, releases and the 401/403 refusals
// are logged at warn ("console audit: ...", seen under `endure serve`).
// An open event stream re-checks its token at most once a second and ends
// once it no longer authenticates (event_stream.hpp). HEAD is answered as
// GET everywhere; every 405 carries Allow.
//
// A call into the runtime (decide, start, signal, cancel, release) waits
// at most the answer limit: past it the answer is 503 "outcome_unknown",
// saying where to look (the request or the run), so a stuck runtime holds
// a handler thread for a bounded time only.
//
// Threads: handle() may run on several threads at once; answer_now() never
// blocks (the server calls it on its io thread); attach/detach may be
// called from any thread and wait for requests using the runtime.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "endure/net/console/event_stream.hpp"
#include "endure/net/console/http_exchange.hpp"

namespace endure {
class runtime;
}
namespace endure::agent {
class tool_registry;
}
namespace endure::net::auth {
class token_store;
}

namespace endure::console {

class console_api {
public:
  /// `tokens` must outlive this object. `runtime_answer_limit`: how long a
  /// request waits for the runtime's answer (see the top). Default: 10 s.
  /// `events`: how GET /api/v1/events streams (event_stream.hpp).
  explicit console_api(net::auth::token_store& tokens,
                       std::chrono::milliseconds runtime_answer_limit = std::chrono::seconds(10),
                       event_stream_options events = {});
  ~console_api();
  console_api(const console_api&) = delete;
  console_api& operator=(const console_api&) = delete;

  /// The runtime's tools (may be null): a request's view carries its
  /// tool's "schema" of arguments (null when unknown), from which the web
  /// page builds the edit form. Any time; the next request sees them.
  void set_tools(std::shared_ptr<const agent::tool_registry> tools);

  /// Serves the API over `rt` (which must stay open until detach()).
  void attach(runtime& rt);
  /// Stops using the runtime: waits for requests that use it, then answers
  /// 503 (shut_down) until attach() again; open event streams end. Call
  /// before closing the runtime.
  void detach();

  /// The answer to `req`; never throws for anything a client sends.
  http_response handle(const http_request& req);
  /// The answer to /healthz, /readyz and the web page's files, without
  /// blocking (a quick_handler for console_server); nullopt for every
  /// other request.
  std::optional<http_response> answer_now(const http_request& req);

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace endure::console
