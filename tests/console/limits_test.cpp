// The server's limits: an oversized or malformed request gets a 4xx (which
// reaches a client still sending) and the server goes on answering; slow
// or silent clients, even past the connection cap, do not keep another
// client's decision out; a runtime that does not answer costs a bounded
// wait and a 503, and health checks are heard meanwhile; HEAD gets no
// body (and is answered as GET), every 405 says Allow; kept-alive
// connections serve several requests; event streams have a cap of their
// own and never take an ordinary request's room; stopping waits only for
// the handlers running, not for those queued.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"
#include "support/eventually.hpp"
#include "support/scoped_rlimit.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sys/resource.h>

#include <ctime>
#include <thread>

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

SCENARIO("an oversized body gets 413 and the server still answers", "[console][limits]") {
  console_fixture c;
  http_probe big(c.port());
  big.send(http_text("POST", "/api/v1/requests/x/decision", c.ann,
                     "{\"decision\": \"" + std::string(70 * 1024, 'a') + "\"}"));
  auto r = big.read();
  CHECK(r.status == 413);
  CHECK(json::parse(r.body, nullptr, false).value("error", "") == "body_too_large");
  CHECK(c.call("GET", "/healthz").status == 200);
}

SCENARIO("malformed HTTP and oversized headers get 4xx and the server stays up",
         "[console][limits]") {
  console_fixture c;
  {
    http_probe p(c.port());
    p.send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(p.read().status == 400);
  }
  {
    http_probe p(c.port());
    p.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(9000, 'x') + "\r\n\r\n");
    CHECK(p.read().status == 431);
  }
  CHECK(c.call("GET", "/healthz").status == 200);
  CHECK(c.call("GET", "/nowhere").status == 404);
}

SCENARIO("a silent client does not delay another client's decision", "[console][limits]") {
  console_fixture c;  // read timeout 10 s: the silent clients outlast the test
  auto id = c.gated_run("run-s");
  std::vector<std::unique_ptr<http_probe>> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(std::make_unique<http_probe>(c.port()));
    if (i % 2)
      silent.back()->send("POST /api/v1/requests/x/decision HTTP/1.1\r\nContent-Length: 100\r\n");
  }
  auto started = std::chrono::steady_clock::now();
  auto r = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                  R"({"decision": "approve"})");
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.status == 200);
  CHECK(took < 3s);
  CHECK(c.rt().ended("run-s", 10s).status == run_status::completed);
}

SCENARIO("the read timeout closes an idle connection", "[console][limits]") {
  console::server_options o;
  o.read_timeout = 200ms;
  console_fixture c(o);
  http_probe idle(c.port());
  CHECK(idle.closed(5s));
  CHECK(c.call("GET", "/healthz").status == 200);
}

SCENARIO("at the cap the connection idle longest makes room and kept-alive ones serve many "
         "requests", "[console][limits]") {
  console::server_options o;
  o.max_connections = 2;
  console_fixture c(o);
  http_probe a(c.port()), b(c.port());
  a.send(http_text("GET", "/healthz"));
  REQUIRE(a.read().status == 200);
  b.send(http_text("GET", "/healthz"));
  REQUIRE(b.read().status == 200);
  for (int i = 0; i < 3; ++i) {  // the same connection again: keep-alive
    b.send(http_text("GET", "/api/v1/runs", c.vic));
    CHECK(b.read().status == 200);
  }
  http_probe third(c.port());  // a has waited longest: it goes
  third.send(http_text("GET", "/healthz"));
  CHECK(third.read(5s).status == 200);
  CHECK(a.closed(5s));
  b.send(http_text("GET", "/healthz"));
  CHECK(b.read().status == 200);
}

SCENARIO("200 slow clients at the cap do not keep a decision out, and the run completes",
         "[console][limits]") {
  console::server_options o;
  o.max_connections = 64;  // the slow clients alone are more than the cap
  console_fixture c(o);
  auto id = c.gated_run("run-slow");
  std::vector<std::unique_ptr<http_probe>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<http_probe>(c.port()));
    if (i % 2)  // half dribble the start of a request, half say nothing
      slow.back()->send("POST /api/v1/requests/x/decision HTTP/1.1\r\nContent-Le");
  }
  auto r = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                  R"({"decision": "approve"})");
  CHECK(r.status == 200);
  CHECK(c.rt().ended("run-slow", 10s).status == run_status::completed);
  CHECK(c.call("GET", "/healthz").status == 200);
}

SCENARIO("HEAD gets the headers of its GET answer and no body", "[console][limits]") {
  console_fixture c;
  http_probe p(c.port());
  for (std::string target : {"/healthz", "/api/v1/runs", "/api/v1/inbox", "/metrics", "/",
                             "/app.js", "/api/v1/events"}) {
    CAPTURE(target);
    p.send(http_text("HEAD", target, c.vic));
    auto head = p.read_head();
    CHECK(head.status == 200);
    if (target != "/api/v1/events")  // a stream: its headers only, then nothing
      CHECK(head.headers["content-length"] != "0");  // what GET would send
  }
  // No body bytes came: the next answer on the connection starts right here.
  p.send(http_text("GET", "/healthz"));
  auto next = p.read();
  CHECK(next.status == 200);
  CHECK(body_of(next)["status"] == "ok");
  // The token is still needed.
  p.send(http_text("HEAD", "/api/v1/runs"));
  CHECK(p.read_head().status == 401);
}

SCENARIO("every 405 says which methods the resource takes", "[console][limits]") {
  console_fixture c;
  struct probe { const char* method; const char* target; const char* allow; };
  for (auto [method, target, allow] :
       {probe{"DELETE", "/api/v1/runs", "GET, HEAD, POST"},
        probe{"PUT", "/api/v1/inbox", "GET, HEAD"},
        probe{"DELETE", "/api/v1/runs/r1/cancel", "POST"},
        probe{"PATCH", "/api/v1/requests/x/decision", "POST"},
        probe{"PUT", "/metrics", "GET, HEAD"},
        probe{"POST", "/app.js", "GET, HEAD"},
        probe{"DELETE", "/", "GET, HEAD"}}) {
    CAPTURE(method, target);
    auto r = c.call(method, target, c.ada, "{}");
    CHECK(r.status == 405);
    CHECK(r.headers["allow"] == allow);
    CHECK(body_of(r)["error"] == "method_not_allowed");
  }
}

SCENARIO("event streams have a cap of their own and never lock ordinary requests out",
         "[console][limits]") {
  console::server_options o;
  o.max_connections = 2;
  o.max_streams = 3;
  console::event_stream_options e;
  e.keep_alive = 100ms;  // a closed stream is noticed at its next keep-alive
  console_fixture c(o, 10s, e);
  std::vector<std::unique_ptr<http_probe>> streams;
  for (int i = 0; i < 3; ++i) {  // more streams than max_connections
    streams.push_back(std::make_unique<http_probe>(c.port()));
    streams.back()->send(http_text("GET", "/api/v1/events", c.vic));
    REQUIRE(streams.back()->read_head(5s).status == 200);
  }
  WHEN("the stream cap is reached") {
    http_probe fourth(c.port());
    fourth.send(http_text("GET", "/api/v1/events", c.vic));
    auto refused = fourth.read(5s);
    THEN("a new stream gets 503 with Retry-After and ordinary requests are served") {
      CHECK(refused.status == 503);
      CHECK(refused.headers.count("retry-after") == 1);
      CHECK(body_of(refused)["error"] == "too_many_streams");
      http_probe a(c.port()), b(c.port());
      a.send(http_text("GET", "/healthz"));
      CHECK(a.read(5s).status == 200);
      b.send(http_text("GET", "/api/v1/runs", c.vic));
      CHECK(b.read(5s).status == 200);
      http_probe third(c.port());  // past max_connections: a (idle longest) makes room
      third.send(http_text("GET", "/healthz"));
      CHECK(third.read(5s).status == 200);
      CHECK(a.closed(5s));
      for (auto& s : streams)  // the streams were not closed for anyone
        CHECK_FALSE(s->closed(250ms));
    }
  }
  WHEN("a stream closes") {
    streams.pop_back();
    THEN("its place is free for another stream") {
      CHECK(eventually([&] {
        http_probe again(c.port());
        again.send(http_text("GET", "/api/v1/events", c.vic));
        return again.read_head(5s).status == 200;
      }, 10s, 50ms));
    }
  }
}

// Like curl, the probe sends its whole request before it reads: a server
// that closed on unread bytes would reset the connection mid-send (curl
// then reports "Connection reset by peer", never the answer).
SCENARIO("413 and 431 reach a client that is still sending", "[console][limits]") {
  console_fixture c;
  {
    http_probe big(c.port());  // far more than the socket buffers hold
    CHECK(big.send(http_text("POST", "/api/v1/requests/x/decision", c.ann,
                             std::string(8 * 1024 * 1024, 'a'))));
    auto r = big.read();
    CHECK(r.status == 413);
    CHECK(r.headers["connection"] == "close");
  }
  {
    http_probe big(c.port());
    CHECK(big.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(8 * 1024 * 1024, 'x') +
                   "\r\n\r\n"));
    CHECK(big.read().status == 431);
  }
  CHECK(c.call("GET", "/healthz").status == 200);
}

namespace {

/// Opens the_stall when the scope ends, so a held run actor (and the
/// handlers waiting on it) let the fixture stop even when a check failed.
struct open_stall_at_end {
  open_stall_at_end() { the_stall.reset(); }
  ~open_stall_at_end() { the_stall.open(); }
};

/// A second server over the fixture's API whose handler counts the
/// requests that reached a handler thread, so a test knows when every
/// handler thread is waiting on the runtime.
struct counting_server {
  counting_server(console_fixture& c, console::server_options o) {
    auto* api = &c.api();
    auto s = console::console_server::start(
      std::move(o),
      [this, api](const console::http_request& r) {
        {
          std::lock_guard lock(m);
          ++inside;
          cv.notify_all();
        }
        return api->handle(r);
      },
      [this, api](const console::http_request& r) {
        auto now = api->answer_now(r);
        if (!now) {  // the server queues it on the pool right after this returns
          std::lock_guard lock(m);
          ++to_pool;
          cv.notify_all();
        }
        return now;
      });
    REQUIRE(s);
    server = std::move(*s);
  }
  /// True once `n` requests reached a handler (waits at most 10 s).
  bool reached(int n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 10s, [&] { return inside >= n; });
  }
  /// True once `n` requests went past the quick handler towards the pool
  /// (running or queued there; waits at most 10 s).
  bool sent_to_pool(int n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 10s, [&] { return to_pool >= n; });
  }
  std::mutex m;
  std::condition_variable cv;
  int inside = 0;
  int to_pool = 0;
  std::unique_ptr<console::console_server> server;
};

/// Starts run `id` of "stalls" and waits until its actor is held.
void stall_run(console_fixture& c, const std::string& id) {
  REQUIRE(c.rt().rt().start("stalls", id, 0));
  REQUIRE(the_stall.held(10s));
}

} // namespace

SCENARIO("a runtime that does not answer gets 503 within the answer limit, saying where to "
         "look", "[console][limits]") {
  console_fixture c({}, 300ms);
  open_stall_at_end stall;
  stall_run(c, "run-stuck");
  for (auto action : {"cancel", "signal", "release"}) {
    CAPTURE(action);
    auto r = c.call("POST", std::string("/api/v1/runs/run-stuck/") + action, c.ada,
                    R"({"name": "go", "reason": "stop"})");
    if (std::string(action) == "release") {  // refused from the journal: no runtime call
      CHECK(r.status == 409);
      continue;
    }
    CHECK(r.status == 503);
    auto body = body_of(r);
    CHECK(body["error"] == "outcome_unknown");
    CHECK_THAT(body["message"].get<std::string>(), Catch::Contains("GET /api/v1/runs/run-stuck"));
  }
  CHECK(c.call("GET", "/healthz").status == 200);
}

SCENARIO("health checks are answered while every handler thread waits on the runtime",
         "[console][limits]") {
  console_fixture c({}, std::chrono::hours(1));  // the handlers wait until the gate opens
  console::server_options o;
  o.handler_threads = 2;
  counting_server s(c, o);
  open_stall_at_end stall;  // after s: opens before s joins its handlers
  stall_run(c, "run-stuck");
  http_probe a(s.server->port()), b(s.server->port());
  a.send(http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  b.send(http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  REQUIRE(s.reached(2));
  http_probe h(s.server->port());
  h.send(http_text("GET", "/healthz"));
  CHECK(h.read(5s).status == 200);
  h.send(http_text("GET", "/readyz"));
  CHECK(h.read(5s).status == 200);
}

SCENARIO("at the cap with every connection busy, a newcomer is closed", "[console][limits]") {
  console_fixture c({}, std::chrono::hours(1));
  console::server_options o;
  o.max_connections = 2;
  counting_server s(c, o);
  open_stall_at_end stall;
  stall_run(c, "run-stuck");
  http_probe a(s.server->port()), b(s.server->port());
  a.send(http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  b.send(http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  REQUIRE(s.reached(2));
  http_probe third(s.server->port());
  third.send(http_text("GET", "/healthz"));
  CHECK(third.read(5s).status == 0);
  the_stall.open();  // the runtime answers (cancelled, or ended already: 409)
  CHECK(a.read().status != 0);
  CHECK(b.read().status != 0);
}

SCENARIO("stopping the server while every handler waits on a stuck runtime ends",
         "[console][limits]") {
  // What `endure serve` does on SIGTERM: the server stops and joins its
  // handler threads. The answer limit (300 ms) frees them; without it the
  // join would wait for a runtime that never answers.
  console_fixture c({}, 300ms);
  console::server_options o;
  o.handler_threads = 2;
  counting_server s(c, o);
  open_stall_at_end stall;
  stall_run(c, "run-stuck");
  http_probe a(s.server->port()), b(s.server->port());
  a.send(http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  b.send(http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  REQUIRE(s.reached(2));
  auto stopped = std::async(std::launch::async, [&] { s.server.reset(); });
  bool ended = stopped.wait_for(20s) == std::future_status::ready;
  CHECK(ended);
  the_stall.open();  // a failed check still ends the test (the join then returns)
  stopped.get();
}

SCENARIO("stopping the server waits for the handlers running, not for every queued one",
         "[console][limits]") {
  // Each cancel of the stuck run waits the answer limit (1 s). Two run,
  // ten queue behind them: running them all would take 6 s.
  console_fixture c({}, 1s);
  console::server_options o;
  o.handler_threads = 2;
  counting_server s(c, o);
  open_stall_at_end stall;
  stall_run(c, "run-stuck");
  std::vector<std::unique_ptr<http_probe>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<http_probe>(s.server->port()));
    clients.back()->send(
      http_text("POST", "/api/v1/runs/run-stuck/cancel", c.ada, R"({"reason": "stop"})"));
  }
  REQUIRE(s.reached(2));
  REQUIRE(s.sent_to_pool(12));
  auto began = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&] { s.server.reset(); });
  bool ended = stopped.wait_for(20s) == std::future_status::ready;
  CHECK(ended);
  CHECK(std::chrono::steady_clock::now() - began < 3s);
  CHECK(s.inside <= 4);  // the queued ones never reached the handler
  the_stall.open();
  stopped.get();
}

SCENARIO("out of file descriptors, the accept loop waits instead of spinning, then serves",
         "[console][limits]") {
#ifdef ENDURE_SANITIZED
  // UBSan's vptr check needs descriptors of its own: with none left it
  // reports every virtual call as invalid. The normal build runs this.
  WARN("skipped under the sanitizers (they need file descriptors)");
  return;
#endif
  // A server alone (no runtime): its threads open no descriptor meanwhile.
  auto server = console::console_server::start(
    {}, [](const console::http_request&) { return console::http_response{}; });
  REQUIRE(server);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(client >= 0);
  // The lowest free descriptor becomes the limit: the client needs none
  // more to connect, the server's accept fails with EMFILE.
  int lowest_free = ::dup(0);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  scoped_rlimit tight{RLIMIT_NOFILE, static_cast<rlim_t>(lowest_free)};
  REQUIRE(tight.ok());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((*server)->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  auto request = http_text("GET", "/healthz");
  REQUIRE(::send(client, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size()));
  // A measuring window, not a synchronisation: the CPU the process burns
  // while the connection cannot be accepted (a spinning loop: about 1 s).
  auto cpu = [] {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
  };
  auto cpu_before = cpu();
  std::this_thread::sleep_for(1s);
  auto burnt = cpu() - cpu_before;
  tight.restore();
  CHECK(burnt < 300ms);
  // With descriptors again, the waiting connection is served.
  pollfd p{client, POLLIN, 0};
  CHECK(::poll(&p, 1, 5000) == 1);
  char buf[64] = {};
  CHECK(::recv(client, buf, sizeof buf - 1, 0) > 0);
  CHECK_THAT(std::string(buf), Catch::StartsWith("HTTP/1.1 200"));
  ::close(client);
}

namespace {

/// This machine's first IPv4 address that is not loopback ("" if none).
std::string non_loopback_ipv4() {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0)
    return "";
  std::string out;
  for (auto* i = all; i && out.empty(); i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_UP)
        && !(i->ifa_flags & IFF_LOOPBACK)) {
      char text[INET_ADDRSTRLEN];
      auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text))
        out = text;
    }
  ::freeifaddrs(all);
  return out;
}

} // namespace

SCENARIO("one client address gets a share of the connections and loopback is not capped",
         "[console][limits]") {
  auto here = non_loopback_ipv4();
  if (here.empty()) {
    WARN("no IPv4 address but loopback on this machine: the per-address share is not tested");
    return;
  }
  console::server_options o;
  o.host = "0.0.0.0";  // reachable at `here`, so its clients are not loopback
  o.max_per_address = 3;
  console_fixture c(o);
  std::vector<std::unique_ptr<http_probe>> remote;
  for (int i = 0; i < 3; ++i) {
    remote.push_back(std::make_unique<http_probe>(c.port(), here));
    remote.back()->send(http_text("GET", "/healthz"));
    REQUIRE(remote.back()->read().status == 200);
  }
  std::vector<std::unique_ptr<http_probe>> local;  // more than the share, all served
  for (int i = 0; i < 6; ++i) {
    local.push_back(std::make_unique<http_probe>(c.port()));
    local.back()->send(http_text("GET", "/healthz"));
    CHECK(local.back()->read().status == 200);
  }
  http_probe fourth(c.port(), here);  // past the share: the first remote one goes
  fourth.send(http_text("GET", "/healthz"));
  CHECK(fourth.read().status == 200);
  CHECK(remote[0]->closed(5s));
  for (auto& p : local) {  // none of the local ones went
    p->send(http_text("GET", "/healthz"));
    CHECK(p->read().status == 200);
  }
  remote[1]->send(http_text("GET", "/healthz"));
  CHECK(remote[1]->read().status == 200);
}
