// The console's HTTP API (issue 16): routes, authentication and the JSON
// forms, over the runtime and its human gateway. The server
// (console_server.hpp) hands it each request; it answers without Beast.
//
//   GET  /healthz                           200, no token
//   GET  /readyz                            200 once a runtime is attached, else 503
//   GET  /api/v1/inbox[?limit=N]            viewer: pending requests the caller may decide
//   GET  /api/v1/requests/ID                viewer: one request with its audit trail
//   POST /api/v1/requests/ID/decision       approver: {"decision": ..., "arguments" | "reason" | "text"}
//   GET  /api/v1/runs[?status=&workflow=&waiting_for_human=true&limit=&after=]  viewer: runs by id, paged
//   GET  /api/v1/runs/ID                    viewer: the run's timeline (timeline_json.hpp)
//   POST /api/v1/runs                       admin: {"workflow", "id", "input"} starts a run
//   POST /api/v1/runs/ID/signal|cancel|release  admin: {"name", "payload"} | {"reason"}
//   GET  /api/v1/events                     viewer: live events as Server-Sent Events
//
// Authentication: `Authorization: Bearer TOKEN`, checked against the token
// store (refreshed per request, so a revoke takes effect at once). The
// deciding principal is the token's; names in a body are ignored. A
// decision goes to runtime::decide with channel "http ADDRESS". Run
// actions without a "reason" record "PRINCIPAL over HTTP"; each is logged
// with the principal and the client's address.
//
// Threads: handle() may run on several threads at once; attach/detach may
// be called from any thread and wait for requests using the runtime.
#pragma once

#include <memory>

#include "endure/net/console/event_stream.hpp"
#include "endure/net/console/http_exchange.hpp"

namespace endure {
class runtime;
}
namespace endure::net::auth {
class token_store;
}

namespace endure::console {

class console_api {
public:
  /// `tokens` must outlive this object.
  explicit console_api(net::auth::token_store& tokens, event_stream_options events = {});
  ~console_api();
  console_api(const console_api&) = delete;
  console_api& operator=(const console_api&) = delete;

  /// Serves the API over `rt` (which must stay open until detach()).
  void attach(runtime& rt);
  /// Stops using the runtime: waits for requests that use it, then answers
  /// 503 (shut_down) until attach() again; open event streams end. Call
  /// before closing the runtime.
  void detach();

  /// The answer to `req`; never throws for anything a client sends.
  http_response handle(const http_request& req);

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace endure::console
