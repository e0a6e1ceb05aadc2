// Asynchronous HTTP/1.1 client (HTTP and HTTPS) with keep-alive reuse.
//
// Ownership and threads: the client owns one io_context and the one thread
// that runs it. All connection state lives on that thread, so none of it is
// locked. `send` may be called from any thread (including from inside a
// callback) and returns at once; the callback runs on the client's thread,
// exactly once per request (even if the callback throws: that is logged),
// and must not block (an actor turns it into a message). Destroying the
// client cancels requests in flight (their callbacks get a retryable
// "client shut down" failure) and joins the thread; do not destroy it from
// inside one of its own callbacks.
//
// Deadline: one per request, for the whole of it: DNS resolution, connect,
// TLS, write, and the answer's header and body. Past it the callback gets a
// retryable timeout naming the phase, whatever the request was waiting on.
//
// Results: any HTTP status is a value (the caller decides what a 404 means;
// see http_failure.hpp to classify). Transport problems are failures:
//   timeout, refused, reset or cut mid-answer, DNS, broken TLS -> retryable
//   invalid URL, untrusted certificate, body over the limit,
//   an answer that is not HTTP                                -> fatal
#pragma once

#include "endure/net/http_types.hpp"
#include "endure/net/result.hpp"

#include <cstddef>
#include <functional>
#include <memory>

namespace endure::net {

class http_client {
public:
  using callback = std::function<void(result<http_response>)>;

  // -- constructors ----------------------------------------------------------

  explicit http_client(http_client_options options = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // -- requests --------------------------------------------------------------

  /// Starts `request`; `done` runs later on the client's thread. A kept-alive
  /// connection that turns out to be closed by the server before any
  /// response byte arrives is replaced by a fresh one once, transparently.
  void send(http_request request, callback done);

  // -- properties ------------------------------------------------------------

  /// TCP connections opened since construction (reuse shows as fewer).
  std::size_t connections_opened() const noexcept;

  const http_client_options& options() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace endure::net
