// The console's HTTP server (issue 16): HTTP/1.1 with keep-alive on one
// address and port, plain or TLS (every connection, when a certificate and
// key are given), every request handed to a handler (console_api in
// practice) and its answer written back. Limits keep one client from
// hurting the others or the runtime: header and body sizes (431 and 413,
// then the connection is closed gracefully so the client reads the
// answer), a read timeout that also bounds the TLS handshake, a cap on open
// connections (at the cap, the connection idle longest, waiting for a
// request, is closed to make room; a newcomer is refused only when every
// connection has a request in progress) and the same per client address
// (loopback excepted) at a smaller share. Streamed responses (Server-Sent
// Events) have a cap of their own: a connection that turns into a stream
// leaves max_connections' count for max_streams', so open streams, which
// are never idle in the cap's sense, can never take the room ordinary
// requests (decisions, /healthz) need; past max_streams a new stream is
// answered 503 with Retry-After. The accept loop pauses 100 ms after an
// accept error (EMFILE: no descriptor left) instead of spinning.
//
// Threads: one io thread owned by the object reads and writes every
// connection asynchronously (a coroutine each), so a slow, silent or
// malformed client only holds its own connection. Handlers may block (a
// decision waits for a journal commit): they run on a small pool of
// handler threads, never on the io thread; an optional quick handler
// (health checks) answers on the io thread, so it is heard even when every
// handler thread waits. The destructor stops accepting, closes every
// connection, waits for the handlers running at that moment (requests
// queued behind them are answered 503 without their handler) and joins
// the threads. Every error
// answer the server makes itself is JSON {"error": CODE, "message": TEXT},
// like the API's. A HEAD request gets the headers of its answer, no body
// (a streamed answer is closed at once: its headers only).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  /// Open connections at most, not counting streamed ones (max_streams).
  /// At the cap, the connection that has waited longest for a request
  /// (none in progress) is closed for a newcomer; if every connection has
  /// a request in progress, the newcomer is closed. Default: 256.
  std::size_t max_connections = 256;
  /// Connections carrying a streamed response (GET /api/v1/events) at
  /// most, counted apart from max_connections. A stream past it is not
  /// opened: 503 {"error": "too_many_streams"} with Retry-After. Open
  /// streams are never closed for a newcomer. Default: 1024.
  std::size_t max_streams = 1024;
  /// Open connections from one client address at most, loopback addresses
  /// excepted (every local client is 127.0.0.1 or ::1; the cap above still
  /// holds for them). At it, that address's connection waiting longest for
  /// a request makes room, or the newcomer is closed. Streams count toward
  /// the share (one remote client cannot take every stream). Default: 64.
  std::size_t max_per_address = 64;
  /// Threads running handlers. Default: 2.
  std::size_t handler_threads = 2;
  /// PEM files of the server's certificate (chain) and its private key.
  /// Both set: every connection speaks TLS (1.2 at least; the handshake
  /// must finish within read_timeout). Both empty: plain HTTP, which only a
  /// loopback address should serve (listen_address.hpp). Default: empty.
  std::string tls_certificate;
  std::string tls_key;
};

using request_handler = std::function<http_response(const http_request&)>;
/// Answers the requests it knows at once, without blocking (e.g. /healthz);
/// nullopt sends the request to the request_handler.
using quick_handler = std::function<std::optional<http_response>(const http_request&)>;

class console_server {
public:
  /// Binds and starts serving with `handler` (called on a handler thread,
  /// possibly on several at once), asking `quick` first (on the io thread)
  /// when given. Errors: invalid_argument (the host is not an IP address;
  /// only one of the TLS files given; a TLS file missing, unreadable, not
  /// PEM, or a key that does not match the certificate: the message names
  /// the file, see tls_context.hpp), io_error (cannot bind: the message
  /// names the address and says why, e.g. "Address already in use").
  static expected<std::unique_ptr<console_server>> start(server_options options,
                                                          request_handler handler,
                                                          quick_handler quick = {});
  ~console_server();
  console_server(const console_server&) = delete;
  console_server& operator=(const console_server&) = delete;

  /// The bound port (the OS's pick when options.port was 0).
  std::uint16_t port() const noexcept;
  /// "HOST:PORT" as bound.
  std::string address() const;
  /// True when connections speak TLS.
  bool tls() const noexcept;
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
