// `endure serve --http` as a user runs it (the real binary, a child
// process): an address that is not loopback needs --tls-cert and --tls-key;
// with them it serves HTTPS (and says https://); bad TLS files stop it
// before it serves, naming the file; SIGTERM ends it promptly while clients
// hold connections open, silent or mid-request; --max-connections and
// --max-streams refuse 0 and garbage and take effect; refusals show in its
// log as "console audit:" lines.
#include <catch2/catch.hpp>

#include <signal.h>

#include <optional>
#include <regex>

#include "console/http_probe.hpp"
#include "console/tls_material.hpp"
#include "console/tls_probe.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
using namespace std::chrono_literals;

namespace {

const std::string endure_bin = ENDURE_BIN_PATH;

std::vector<std::string> serve_args(const temp_dir& dir, std::vector<std::string> more) {
  std::vector<std::string> argv{endure_bin, "--data", dir.file("data"), "serve"};
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

/// The port of "console listening on SCHEME://HOST:PORT/" (the scheme must
/// be `scheme`), or nullopt if serve ended or said something else first.
std::optional<std::uint16_t> console_port(child_process& serve, const std::string& scheme) {
  for (int i = 0; i < 20; ++i) {
    auto line = serve.read_line(20s);
    if (!line)
      return std::nullopt;
    std::smatch m;
    if (std::regex_search(*line, m, std::regex("console listening on (https?)://.*:([0-9]+)/")))
      return m[1] == scheme ? std::optional<std::uint16_t>(std::stoi(m[2])) : std::nullopt;
  }
  return std::nullopt;
}

} // namespace

SCENARIO("serve refuses an address that is not loopback without TLS, and half a TLS setting",
         "[console][serve]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  child_options merged;
  merged.merge_stderr = true;
  auto [code, out] = run_command(serve_args(dir, {"--http", "0.0.0.0:0"}), 20s, merged);
  CHECK(code == 2);
  CHECK_THAT(out, Catch::Contains("not a loopback address") && Catch::Contains("--tls-cert"));
  auto [code2, out2] =
    run_command(serve_args(dir, {"--http", "0.0.0.0:0", "--tls-cert", m.certificate}), 20s,
                merged);
  CHECK(code2 == 2);
  CHECK_THAT(out2, Catch::Contains("--tls-key"));
}

SCENARIO("serve refuses a connection or stream cap of 0 or one that is not a number",
         "[console][serve]") {
  temp_dir dir;
  child_options merged;
  merged.merge_stderr = true;
  for (auto [flag, value] : {std::pair{"--max-connections", "0"},
                             std::pair{"--max-connections", "many"},
                             std::pair{"--max-streams", "0"}, std::pair{"--max-streams", "-3"},
                             std::pair{"--max-streams", "12x"}}) {
    CAPTURE(flag, value);
    auto [code, out] = run_command(serve_args(dir, {"--http", "127.0.0.1:0", flag, value}), 20s,
                                   merged);
    CHECK(code == 2);
    CHECK_THAT(out, Catch::Contains(flag) && Catch::Contains("from 1 up") &&
                      Catch::Contains(std::string("'") + value + "'"));
  }
  auto [code, out] = run_command(serve_args(dir, {"--max-streams", "5"}), 20s, merged);
  CHECK(code == 2);
  CHECK_THAT(out, Catch::Contains("--max-streams goes with --http"));
}

SCENARIO("serve applies --max-streams and logs refusals as audit lines at its log level",
         "[console][serve]") {
  temp_dir dir;
  auto [made, token] = run_command(
    {endure_bin, "--data", dir.file("data"), "token", "create", "vic", "--role", "viewer"}, 20s);
  REQUIRE(made == 0);
  token.erase(token.find_last_not_of("\r\n") + 1);
  child_options merged;
  merged.merge_stderr = true;
  child_process serve(
    serve_args(dir, {"--http", "127.0.0.1:0", "--max-connections", "8", "--max-streams", "1"}),
    merged);
  auto port = console_port(serve, "http");
  REQUIRE(port);
  http_probe first(*port);
  first.send(http_text("GET", "/api/v1/events", token));
  REQUIRE(first.read_head().status == 200);
  http_probe second(*port);
  second.send(http_text("GET", "/api/v1/events", token));
  auto refused = second.read();
  CHECK(refused.status == 503);
  CHECK(refused.headers.count("retry-after") == 1);
  http_probe intruder(*port);
  intruder.send(http_text("GET", "/api/v1/runs", "not-a-token"));
  CHECK(intruder.read().status == 401);
  bool audited = false;
  for (int i = 0; i < 50 && !audited; ++i) {
    auto line = serve.read_line(10s);
    if (!line)
      break;
    audited = line->find("console audit: refused GET /api/v1/runs from 127.0.0.1") !=
              std::string::npos;
  }
  CHECK(audited);
  ::kill(serve.pid(), SIGTERM);
  CHECK(serve.wait(30s) == 0);
}

SCENARIO("serve with a key of another certificate stops before serving, naming the key",
         "[console][serve]") {
  temp_dir dir;
  auto a = make_tls_material(dir.path(), "a");
  auto b = make_tls_material(dir.path(), "b");
  child_options merged;
  merged.merge_stderr = true;
  auto [code, out] = run_command(serve_args(dir, {"--http", "127.0.0.1:0", "--tls-cert",
                                                  a.certificate, "--tls-key", b.key}),
                                 30s, merged);
  CHECK(code != 0);
  CHECK_THAT(out, Catch::Contains("cannot start the console") && Catch::Contains(b.key)
                    && Catch::Contains("does not match"));
}

SCENARIO("serve speaks HTTPS on any address with --tls-cert and --tls-key", "[console][serve]") {
  temp_dir dir;
  auto m = make_tls_material(dir.path(), "server");
  child_process serve(serve_args(dir, {"--http", "0.0.0.0:0", "--tls-cert", m.certificate,
                                       "--tls-key", m.key}));
  auto port = console_port(serve, "https");
  REQUIRE(port);
  tls_probe p(*port, m.certificate);
  REQUIRE(p.handshake());
  p.send(http_text("GET", "/readyz"));
  CHECK(p.read().status == 200);
  ::kill(serve.pid(), SIGTERM);
  CHECK(serve.wait(30s) == 0);
}

SCENARIO("SIGTERM ends serve promptly while clients hold connections open", "[console][serve]") {
  temp_dir dir;
  child_process serve(serve_args(dir, {"--http", "127.0.0.1:0"}));
  auto port = console_port(serve, "http");
  REQUIRE(port);
  std::vector<std::unique_ptr<http_probe>> held;
  for (int i = 0; i < 60; ++i) {
    held.push_back(std::make_unique<http_probe>(*port));
    if (i % 3 == 1)
      held.back()->send("POST /api/v1/runs HTTP/1.1\r\nContent-Length: 100\r\n\r\n{");
    if (i % 3 == 2) {  // kept alive after an answer
      held.back()->send(http_text("GET", "/healthz"));
      REQUIRE(held.back()->read().status == 200);
    }
  }
  ::kill(serve.pid(), SIGTERM);
  CHECK(serve.wait(30s) == 0);  // a hang is killed at 30 s and fails here
}
