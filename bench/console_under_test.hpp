// The system bench/console measures: a real runtime on a fresh directory
// (sync commits) with the gated workload of bench/gateway and a workflow of
// plain steps, the real console (API + Beast server) on 127.0.0.1 at a port
// the OS picks, and an approver's token. The benchmark's main thread owns
// it; clients connect to port().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "endure/actors/endure.hpp"

namespace endure::bench {

/// The workflow of `steps_per_run` steps (each returns at once), input unused.
inline constexpr const char* steps_workflow = "steps";
inline constexpr int steps_per_run = 20;

class console_under_test {
public:
  /// `max_connections`: the server's cap (the streams figure opens 1,000).
  /// Event streams send a keep-alive every second (not 15 s), so the
  /// server learns within a second or two that a closed client is gone.
  explicit console_under_test(const std::string& dir, std::size_t max_connections = 256);
  ~console_under_test();
  console_under_test(const console_under_test&) = delete;
  console_under_test& operator=(const console_under_test&) = delete;

  runtime& rt();
  std::uint16_t port() const;
  /// An approver's bearer token.
  const std::string& token() const;
  /// Connections the server has open now (event streams included).
  std::size_t open_connections() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// "a/b" -> "a%2Fb": a request id as a path segment.
std::string url_id(const std::string& id);

} // namespace endure::bench
