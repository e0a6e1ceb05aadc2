// The console's HTTP server (issue 16): HTTP/1.1 with keep-alive on one
// address and port, every request handed to a handler (console_api in
// practice) and its answer written back. Limits keep one client from
// hurting the others or the runtime: header and body sizes (413 past the
// body limit), a read timeout, a cap on open connections (connections past
// it are closed at once).
//
// Threads: one io thread owned by the object reads and writes every
// connection asynchronously (a coroutine each), so a slow, silent or
// malformed client only holds its own connection. Handlers may block (a
// decision waits for a journal commit): they run on a small pool of
// handler threads, never on the io thread. The destructor stops accepting,
// closes every connection, waits for running handlers and joins the
// threads. Every error answer the server makes itself is JSON
// {"error": CODE, "message": TEXT}, like the API's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "endure/net/console/http_exchange.hpp"
#include "endure/persistence/error.hpp"

namespace endure::console {

struct server_options {
  /// Address to listen on (an IP address). Default: "127.0.0.1".
  std::string host = "127.0.0.1";
  /// 0 lets the OS pick a free port (see port()). Default: 0.
  std::uint16_t port = 0;
  /// Largest request line plus headers; larger ones get 431 and the
  /// connection is closed. Default: 8 KiB.
  std::size_t header_limit = 8 * 1024;
  /// Largest request body; larger ones get 413 and the connection is
  /// closed. Default: 64 KiB.
  std::size_t body_limit = 64 * 1024;
  /// How long reading one request may take (from its first byte or, on a
  /// kept-alive connection, from the previous answer); then the connection
  /// is closed. Default: 10 s.
  std::chrono::milliseconds read_timeout{10'000};
  /// Open connections at most; one accepted beyond is closed at once.
  /// Default: 256.
  std::size_t max_connections = 256;
  /// Threads running handlers. Default: 2.
  std::size_t handler_threads = 2;
};

using request_handler = std::function<http_response(const http_request&)>;

class console_server {
public:
  /// Binds and starts serving with `handler` (called on a handler thread,
  /// possibly on several at once). Errors: invalid_argument (the host is not
  /// an IP address), io_error (cannot bind: the message names the address
  /// and says why, e.g. "Address already in use").
  static expected<std::unique_ptr<console_server>> start(server_options options,
                                                          request_handler handler);
  ~console_server();
  console_server(const console_server&) = delete;
  console_server& operator=(const console_server&) = delete;

  /// The bound port (the OS's pick when options.port was 0).
  std::uint16_t port() const noexcept;
  /// "HOST:PORT" as bound.
  std::string address() const;
  /// Connections open now.
  std::size_t open_connections() const noexcept;

  struct impl;
private:
  explicit console_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// {"error": code, "message": message} as a response with `status`.
http_response error_response(int status, std::string_view code, std::string_view message);

} // namespace endure::console
