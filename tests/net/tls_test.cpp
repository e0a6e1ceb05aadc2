// HTTPS to the local fake server with a certificate made in the test:
// rejected by default, accepted when trusted (PEM string or file) or when
// verification is off, and rejected when trusted but issued for another
// host.
#include "net_test_support.hpp"

#include "endure/net/fake_openai_server.hpp"
#include "endure/net/http_client.hpp"
#include "support/temp_dir.hpp"

#include <fstream>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

fake_server_options tls_server(const test_certificate& cert) {
  fake_server_options o;
  o.tls_certificate_pem = cert.certificate_pem;
  o.tls_private_key_pem = cert.private_key_pem;
  return o;
}

result<http_response> get_models(const fake_openai_server& server, tls_options tls) {
  http_client_options options;
  options.tls = std::move(tls);
  http_client client(options);
  http_request req;
  req.url = server.base_url() + "/models";
  req.timeout = 10s;
  return await_result<http_response>([&](auto done) { client.send(req, done); });
}

} // namespace

SCENARIO("HTTPS with a self-signed certificate", "[net][tls]") {
  auto cert = make_self_signed("endure-test", {"IP:127.0.0.1", "DNS:localhost"});
  fake_openai_server server(tls_server(cert));
  REQUIRE(server.base_url().rfind("https://127.0.0.1:", 0) == 0);

  WHEN("the client uses the default verification") {
    auto r = get_models(server, {});
    THEN("the certificate is rejected as untrusted, fatally") {
      REQUIRE_FALSE(r);
      CHECK(r.error().cls == failure_class::fatal);
      CHECK_THAT(r.error().message, Catch::Contains("not trusted") && Catch::Contains("ca_file"));
      CHECK(server.requests() == 0);
    }
  }
  WHEN("the client trusts the certificate as PEM text") {
    tls_options tls;
    tls.ca_pem = cert.certificate_pem;
    auto r = get_models(server, tls);
    THEN("the request succeeds") {
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK_THAT(r->body, Catch::Contains("sim"));
    }
  }
  WHEN("the client trusts the certificate from a file") {
    temp_dir dir;
    std::ofstream(dir.file("ca.pem")) << cert.certificate_pem;
    tls_options tls;
    tls.ca_file = dir.file("ca.pem");
    tls.use_system_store = false;
    auto r = get_models(server, tls);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  WHEN("the CA file does not exist") {
    tls_options tls;
    tls.ca_file = "/nonexistent/ca.pem";
    auto r = get_models(server, tls);
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == failure_class::fatal);
    CHECK_THAT(r.error().message, Catch::Contains("/nonexistent/ca.pem"));
  }
  WHEN("verification is turned off") {
    tls_options tls;
    tls.verify_peer = false;
    auto r = get_models(server, tls);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
}

SCENARIO("a trusted certificate for another host is rejected", "[net][tls]") {
  auto cert = make_self_signed("elsewhere", {"DNS:elsewhere.example"});
  fake_openai_server server(tls_server(cert));
  tls_options tls;
  tls.ca_pem = cert.certificate_pem;
  auto r = get_models(server, tls);
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::fatal);
  CHECK_THAT(r.error().message, Catch::Contains("mismatch"));
}

SCENARIO("keep-alive works over TLS too", "[net][tls]") {
  auto cert = make_self_signed("endure-test", {"IP:127.0.0.1"});
  fake_openai_server server(tls_server(cert));
  http_client_options options;
  options.tls.ca_pem = cert.certificate_pem;
  http_client client(options);
  http_request req;
  req.url = server.base_url() + "/models";
  for (int i = 0; i < 3; ++i) {
    auto r = await_result<http_response>([&](auto done) { client.send(req, done); });
    REQUIRE(r);
    CHECK(r->reused_connection == (i > 0));
  }
  CHECK(server.connections() == 1);
}
