// The listening side of the control channel, run by `endure serve`: a Unix
// domain socket DATA_DIR/control.sock (mode 0600; the peer's uid, read with
// SO_PEERCRED, must be serve's own) through which `endure start`, `signal`,
// `cancel`, `release` and `run` reach the live runtime instead of the
// journal it holds. One thread accepts; each accepted connection gets a
// thread of its own, which reads one request (bounded in size and time),
// calls the handler and writes the reply. Connections beyond the caps are
// told "busy", connections during shutdown "stopping", other users
// "refused"; none of them reaches the handler. The handler runs on the
// connection's thread, never on an actor's. Internal to cli/.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "endure/cli/control_protocol.hpp"

namespace endure::cli {

struct control_server_options {
  /// From accept to a whole request; a client that sends nothing or too
  /// slowly is dropped. Default: 5 s.
  std::chrono::milliseconds request_deadline{5'000};
  /// To write a reply; a client that does not read it is dropped.
  /// Default: 5 s.
  std::chrono::milliseconds reply_deadline{5'000};
  /// Connections reading or executing a request, waits not counted; more
  /// are told "busy". Default: 16.
  std::size_t max_requests = 16;
  /// Connections waiting for a run's end (`endure run`); more get an error
  /// reply. Default: 256.
  std::size_t max_waits = 256;
};

/// Executes one request on the connection's thread. `stopping` turns true
/// when serve shuts down; a request that waits (control_op::wait) must then
/// return within a moment.
using control_handler =
  std::function<control_reply(const control_request&, const std::atomic<bool>& stopping)>;

class control_server {
public:
  /// Creates DATA_DIR/control.sock, replacing a socket file left by an
  /// earlier serve (the caller holds the data directory, so no live serve
  /// uses it): bound under a temporary name, set to 0600, then renamed, so
  /// no client ever sees it with other permissions. Starts accepting.
  /// Errors: io_error (naming the path) if the socket cannot be made.
  static expected<std::unique_ptr<control_server>>
  start(const std::string& data_dir, control_handler handler, control_server_options opts = {});

  /// Every new connection is told "stopping" from now on; returns true once
  /// the requests in progress have been answered (waits end with a
  /// shut_down reply), false if some are still in the handler after
  /// `limit` (it is stuck: a runtime that does not answer). The handler is
  /// not called for new requests afterwards.
  bool stop_requests(std::chrono::milliseconds limit);

  /// Stops accepting and closes the socket, after the requests in progress
  /// (call stop_requests with a limit first: this waits for them as long
  /// as they take). The socket's file stays behind: a client finds nobody
  /// listening and uses the journal, and the next serve replaces it.
  /// (Removing it here could remove the socket of a serve started since the
  /// data directory was let go.)
  ~control_server();

  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  /// The socket's path.
  const std::string& path() const noexcept;

private:
  struct impl;
  explicit control_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace endure::cli
