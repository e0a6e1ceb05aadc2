// The console over TLS: with a certificate and key every connection speaks
// TLS (a token request works; plain HTTP to the port is dropped unanswered
// without hurting other clients; a handshake that never finishes is cut at
// the read timeout), and bad TLS files refuse to start with a message that
// names the file and says what to do.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"
#include "console/tls_material.hpp"
#include "console/tls_probe.hpp"
#include "support/temp_dir.hpp"

#include <fstream>

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

console::server_options tls_options(const tls_material& m) {
  console::server_options o;
  o.tls_certificate = m.certificate;
  o.tls_key = m.key;
  return o;
}

/// Starts a server with `o` and a handler that is never reached.
expected<std::unique_ptr<console::console_server>> start_with(console::server_options o) {
  return console::console_server::start(std::move(o), [](const console::http_request&) {
    return console::http_response{};
  });
}

} // namespace

SCENARIO("bad TLS files refuse to start, naming the file and what to do", "[console][tls]") {
  temp_dir dir;
  auto a = make_tls_material(dir.path(), "a");
  auto b = make_tls_material(dir.path(), "b");
  std::ofstream(dir.file("junk.pem")) << "not a PEM file\n";
  struct bad_case {
    std::string cert, key, names, says;
  };
  for (auto& c : std::vector<bad_case>{
         {a.certificate, b.key, b.key, "does not match the certificate"},
         {dir.file("missing.crt"), a.key, "missing.crt", "No such file"},
         {a.certificate, dir.file("missing.key"), "missing.key", "No such file"},
         {dir.file("junk.pem"), a.key, "junk.pem", "no PEM certificate"},
         {a.certificate, dir.file("junk.pem"), "junk.pem", "no PEM private key"},
         {a.key, a.key, a.key, "no PEM certificate"},
         {a.certificate, "", "key", "both a certificate and a key"},
         {"", a.key, "certificate", "both a certificate and a key"}}) {
    CAPTURE(c.cert, c.key);
    console::server_options o;
    o.tls_certificate = c.cert;
    o.tls_key = c.key;
    auto s = start_with(o);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == errc::invalid_argument);
    CHECK_THAT(s.error().message, Catch::Contains(c.names) && Catch::Contains(c.says));
  }
  CHECK(start_with(tls_options(a)));  // the good pair starts
}

SCENARIO("a request with a token works over TLS", "[console][tls]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  console_fixture c(tls_options(m));
  tls_probe p(c.port(), m.certificate);
  REQUIRE(p.handshake());
  CHECK((p.protocol() == "TLSv1.2" || p.protocol() == "TLSv1.3"));
  p.send(http_text("GET", "/api/v1/runs", c.vic));
  auto r = p.read();
  CHECK(r.status == 200);
  CHECK(body_of(r).contains("runs"));
  p.send(http_text("GET", "/api/v1/runs"));  // kept alive; no token: refused as over HTTP
  CHECK(p.read().status == 401);
}

SCENARIO("an event stream over TLS goes on after the client updates its keys", "[console][tls]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  console_fixture c(tls_options(m));
  tls_probe p(c.port(), m.certificate);
  REQUIRE(p.handshake());
  p.send(http_text("GET", "/api/v1/events", c.vic));
  REQUIRE(p.read_until("retry: 2000\n\n"));
  REQUIRE(p.protocol() == "TLSv1.3");  // key updates are TLS 1.3's (OpenSSL 3 offers it)
  REQUIRE(p.update_keys());  // bytes from the client while the stream is quiet
  REQUIRE(c.rt().rt().start("two_steps", "after-key-update", 1));
  CHECK(p.read_until(R"("run":"after-key-update","status":"completed")"));
}

SCENARIO("a client offering TLS 1.1 at most is refused", "[console][tls]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  console_fixture c(tls_options(m));
  tls_probe old(c.port(), m.certificate);
  old.offer_at_most(TLS1_1_VERSION);
  CHECK_FALSE(old.handshake());
  tls_probe ok(c.port(), m.certificate);
  ok.offer_at_most(TLS1_2_VERSION);
  REQUIRE(ok.handshake());
  CHECK(ok.protocol() == "TLSv1.2");
}

SCENARIO("plain HTTP to a TLS port is dropped unanswered and other clients go on",
         "[console][tls]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  console_fixture c(tls_options(m));
  tls_probe before(c.port(), m.certificate);
  REQUIRE(before.handshake());
  http_probe plain(c.port());
  plain.send(http_text("GET", "/healthz"));
  CHECK(plain.read(5s).status == 0);
  CHECK(plain.closed(5s));
  before.send(http_text("GET", "/healthz"));
  CHECK(before.read().status == 200);
  tls_probe after(c.port(), m.certificate);
  REQUIRE(after.handshake());
  after.send(http_text("GET", "/readyz"));
  CHECK(after.read().status == 200);
}

SCENARIO("a client that never finishes the TLS handshake is dropped at the read timeout",
         "[console][tls]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  auto o = tls_options(m);
  o.read_timeout = 200ms;
  console_fixture c(o);
  http_probe silent(c.port());  // connects, never sends a ClientHello
  http_probe half(c.port());
  half.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));  // a ClientHello's start
  CHECK(silent.closed(5s));
  CHECK(half.closed(5s));
  tls_probe ok(c.port(), m.certificate);
  REQUIRE(ok.handshake());
  ok.send(http_text("GET", "/healthz"));
  CHECK(ok.read().status == 200);
}
