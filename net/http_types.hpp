// Plain request/response/option structs for the HTTP client and the fake
// server. No Beast, Asio or OpenSSL here: those live in http_client.cpp and
// fake_openai_server.cpp only, so including this costs nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace endure::net {

/// One header line. Names compare case-insensitively (see find_header).
struct http_header {
  std::string name;
  std::string value;
};

using http_headers = std::vector<http_header>;

/// Value of the first header called `name` (ASCII case-insensitive), if any.
std::optional<std::string_view> find_header(const http_headers& headers,
                                            std::string_view name) noexcept;

struct http_request {
  /// "GET", "POST", ... Default: "GET".
  std::string method = "GET";
  /// Absolute URL: http[s]://host[:port]/path[?query]. IPv6 hosts in
  /// brackets. Default: empty (invalid).
  std::string url;
  /// Extra headers; Host, Content-Length and User-Agent are set by the
  /// client unless given here. Default: none.
  http_headers headers;
  /// Request body, sent as is. Default: empty.
  std::string body;
  /// Whole-request deadline (DNS, connect, TLS, write, reading the header
  /// and the whole body) for this request; zero means the client's
  /// default_timeout. Default: zero.
  std::chrono::milliseconds timeout{0};
};

struct http_response {
  int status = 0;
  http_headers headers;
  std::string body;
  /// True when the request went over a kept-alive connection from the pool.
  bool reused_connection = false;
};

/// How HTTPS peers are verified.
struct tls_options {
  /// Verify the server certificate chain and host name. Turning it off
  /// accepts any certificate (self-signed demos only). Default: true.
  bool verify_peer = true;
  /// Also trust the CA or self-signed certificate in this PEM file.
  /// Default: empty (system CA store only).
  std::string ca_file;
  /// Also trust these PEM certificates (one or more, concatenated).
  /// Default: empty.
  std::string ca_pem;
  /// Trust the system CA store (/etc/ssl/certs). Default: true.
  bool use_system_store = true;
};

struct http_client_options {
  /// Whole-request deadline for a request that does not set its own.
  /// Default: 60 s.
  std::chrono::milliseconds default_timeout{60'000};
  /// Largest response body accepted; a larger one (or one that never
  /// ends) fails as fatal. Default: 8 MiB.
  std::size_t max_response_bytes = 8u << 20;
  /// Idle kept-alive connections kept per host:port. Default: 4.
  std::size_t max_idle_per_host = 4;
  /// Certificate verification for https:// URLs. Default: see tls_options.
  tls_options tls;
  /// Sent unless the request sets its own. Default: "endure/0.1".
  std::string user_agent = "endure/0.1";
};

} // namespace endure::net
