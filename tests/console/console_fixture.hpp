// A console over a real runtime on a temp directory: a policy that gates
// `publish` (audience over 100, approvers ann and bob), workflows
// `publishes`, `two_steps`, `fails`, `flaky`, `awaits_go` and `stalls`, tokens for ann and bob (approvers),
// vic (viewer), ada (admin) and a revoked one, the API attached and the
// server listening on 127.0.0.1 at a port the OS picks. Requests go over
// real loopback HTTP (http_probe.hpp).
#pragma once

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>

#include "actors/runtime_fixture.hpp"
#include "console/http_probe.hpp"
#include "gateway/request_row.hpp"
#include "endure/actors/agent/json_msgpack.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/net/auth/token_store.hpp"
#include "endure/net/console/console_api.hpp"
#include "endure/net/console/console_server.hpp"

namespace endure::test {

/// The JSON object an API answer carries (fails the test otherwise).
inline nlohmann::json body_of(const http_reply& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  INFO(r.body);
  REQUIRE(j.is_object());
  return j;
}

inline task<nlohmann::json> publishes(context& ctx, int audience) {
  nlohmann::json args = {{"title", "durable"}, {"audience", audience}};
  auto result = co_await ctx.tool("publish", args);
  co_return result;
}

/// Two steps, each completing at once: n+1, then doubled.
inline task<int> two_steps(context& ctx, int n) {
  auto a = co_await ctx.step("add one", [n] { return n + 1; });
  auto b = co_await ctx.step("double", [a] { return a * 2; });
  co_return b;
}

/// A step that fails for good (fatal: not retried).
inline task<int> fails(context& ctx, int) {
  auto a = co_await ctx.step("doomed", []() -> int { throw fatal_error("the disk is full"); });
  co_return a;
}

/// One step that fails twice (retryable, then rate limited) and returns n
/// at its third attempt; backoffs of 1 ms.
inline task<int> flaky(context& ctx, int n) {
  auto a = co_await ctx.step("flaky", [n](const step_info& info) -> int {
    if (info.attempt == 1)
      throw retryable_error("the service blinked");
    if (info.attempt == 2)
      throw rate_limited_error("slow down", std::chrono::milliseconds{1});
    return n;
  }).retry({.max_attempts = 3, .initial_interval = std::chrono::milliseconds{1}, .jitter = false});
  co_return a;
}

/// Waits (an hour at most) for signal "go" and returns its text payload.
inline task<std::string> awaits_go(context& ctx, int) {
  auto got = co_await ctx.wait_signal<std::string>("go", std::chrono::hours(1));
  co_return got.value_or("(timed out)");
}

/// Holds the run actor of a "stalls" run inside workflow code until
/// opened: misbehaving user code, so requests to that run get no answer (a
/// stuck runtime, as the console sees it). Open it before the fixture ends.
class stall_gate {
public:
  void hold() {
    std::unique_lock lock(m_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  /// True once a run is held (waits at most `limit`).
  bool held(std::chrono::milliseconds limit) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, limit, [&] { return entered_; });
  }
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  void reset() {
    std::lock_guard lock(m_);
    entered_ = open_ = false;
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool entered_ = false, open_ = false;
};
inline stall_gate the_stall;

/// One step, then blocks its run actor at the_stall.
inline task<int> stalls(context& ctx, int) {
  auto a = co_await ctx.step("first", [] { return 1; });
  the_stall.hold();
  co_return a;
}

/// The runtime's tools, which the console is given too (for the schemas).
inline std::shared_ptr<agent::tool_registry> console_tools() {
  auto tools = std::make_shared<agent::tool_registry>();
  nlohmann::json schema = {{"type", "object"},
                           {"properties", {{"title", {{"type", "string"}}},
                                           {"audience", {{"type", "integer"}}}}},
                           {"required", {"title"}}};
  REQUIRE(tools->add({"publish", "Publishes a post.", schema,
                      [](const nlohmann::json& a) { return nlohmann::json{{"url", a["title"]}}; },
                      true}));
  return tools;
}

inline void console_tuning(runtime_options& o) {
  auto tools = console_tools();
  auto p = gateway::parse_policy(R"(
groups: {editors: [ann, bob]}
interrupt_on:
  publish:
    description: Publishing is public.
    approvers: {groups: [editors]}
    when: {pointer: /audience, op: gt, value: 100}
)", "console-policy.yaml");
  REQUIRE(p);
  o.tools = tools;
  o.policy = std::make_shared<const gateway::policy>(std::move(*p));
}

class console_fixture {
public:
  explicit console_fixture(console::server_options options = {},
                           std::chrono::milliseconds answer_limit = std::chrono::seconds(10),
                           console::event_stream_options events = {})
    : f_([](workflow_registry& r) { 
        r.add("stalls", &stalls);
        r.add("publishes", &publishes);
        r.add("two_steps", &two_steps);
        r.add("fails", &fails);
        r.add("flaky", &flaky);
        r.add("awaits_go", &awaits_go);
      }, console_tuning) {
    auto store = net::auth::token_store::open(f_.dir());
    REQUIRE(store);
    tokens_ = std::make_unique<net::auth::token_store>(std::move(*store));
    ann = make_token("ann", net::auth::role::approver);
    bob = make_token("bob", net::auth::role::approver);
    vic = make_token("vic", net::auth::role::viewer);
    ada = make_token("ada", net::auth::role::admin);
    api_ = std::make_unique<console::console_api>(*tokens_, answer_limit, events);
    api_->attach(f_.rt());
    api_->set_tools(console_tools());
    auto* api = api_.get();
    auto server = console::console_server::start(
      std::move(options), [api](const console::http_request& r) { return api->handle(r); },
      [api](const console::http_request& r) { return api->answer_now(r); });
    REQUIRE(server);
    server_ = std::move(*server);
  }
  ~console_fixture() {
    server_.reset();
    api_->detach();
  }

  /// One request on a new connection; its answer.
  http_reply call(const std::string& method, const std::string& target,
                  const std::string& token = "", const std::string& body = "") {
    http_probe p(port());
    p.send(http_text(method, target, token, body));
    return p.read();
  }

  /// The id of run `run`'s pending request, once it is raised.
  std::string pending_request(const std::string& run) {
    return pending_request_of(f_.rt().store(), run);
  }

  /// Starts a run whose publish call waits for a decision; its request id.
  /// Starts run `run` of "publishes" and returns its pending request's id
  /// once the run waits for it (the gate step raises the request a moment
  /// before the wait marks the run waiting).
  std::string gated_run(const std::string& run) {
    REQUIRE(f_.rt().start("publishes", run, 500));
    auto id = pending_request(run);
    REQUIRE(f_.await_status(run, run_status::waiting));
    return id;
  }

  std::uint16_t port() const { return server_->port(); }
  /// Stops the server (as `endure serve` does first on SIGTERM).
  void stop_server() { server_.reset(); }
  console::console_server& server() { return *server_; }
  runtime_fixture& rt() { return f_; }
  console::console_api& api() { return *api_; }
  /// Another handle on the tokens file, as `endure token revoke` has.
  net::auth::token_store other_store() {
    auto s = net::auth::token_store::open(f_.dir());
    REQUIRE(s);
    return std::move(*s);
  }

  std::string ann, bob, vic, ada;

private:
  std::string make_token(const std::string& name, net::auth::role r) {
    auto t = tokens_->create(name, r);
    REQUIRE(t);
    return *t;
  }

  runtime_fixture f_;
  std::unique_ptr<net::auth::token_store> tokens_;
  std::unique_ptr<console::console_api> api_;
  std::unique_ptr<console::console_server> server_;
};

/// The request id as a URL path segment ("run-1/3" -> "run-1%2F3").
inline std::string url_id(const std::string& id) {
  std::string out;
  for (char c : id)
    out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

} // namespace endure::test
