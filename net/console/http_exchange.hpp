// One HTTP request as the console's API sees it and the answer it gives:
// plain values, so the API (console_api.hpp) is written and tested without
// Beast, which stays inside console_server.cpp. Any thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace endure::console {

class response_stream;

struct http_request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< path and query, as sent ("/api/v1/runs?limit=5")
  /// The Authorization header's value; empty when absent.
  std::string authorization;
  std::string body;
  /// The client's IP address ("127.0.0.1"), for the audit trail.
  std::string remote_address;
};

struct http_response {
  int status = 200;
  /// Always JSON (application/json) unless set.
  std::string content_type = "application/json";
  std::string body;
  /// Extra headers (e.g. WWW-Authenticate), name and value.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set: `body` is ignored and the body is what this stream gives, until
  /// it ends or the client goes (response_stream.hpp); the connection then
  /// closes.
  std::shared_ptr<response_stream> stream;
};

} // namespace endure::console
