// A response body that goes on after the headers, for as long as the
// client stays (Server-Sent Events, event_stream.hpp): what the console's
// server (console_server.hpp) needs from whoever produces it. Beast-free,
// so the producer is written and tested without Beast.
//
// The conversation, on the server's side: the handler answers with an
// http_response whose `stream` is set; the server writes the headers
// (no Content-Length: the body ends when the connection closes), calls
// start(wake), then loops: take() what is pending and write it in one
// write, or, when nothing is, wait for wake() or for idle_period(), and
// then write idle_bytes(). It stops when take() says ended (after writing
// what it got) or dropped (at once), when the client goes or a write fails
// or times out, or when the server stops; then it calls close().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace endure::console {

class response_stream {
public:
  /// Byte strings to write in this order. Shared with other streams and
  /// never copied per stream: the server holds them until written.
  using chunk = std::vector<std::shared_ptr<const std::string>>;

  enum class state {
    open,     ///< more may come
    ended,    ///< write `out`, then end the response
    dropped,  ///< the client is too slow: close the connection at once
  };

  /// Called by the server with `drop` false when take() has something new
  /// (bytes or the end), true when the stream was dropped (the server then
  /// abandons a write in flight). Any thread; cheap; never blocks.
  using waker = std::function<void(bool drop)>;

  virtual ~response_stream() = default;

  /// The headers are written; `wake` is called (from any thread) whenever
  /// take() has news, until close() returns. Once.
  virtual void start(waker wake) = 0;
  /// Moves what is pending into `out`; says whether more may come. The
  /// server's io thread.
  virtual state take(chunk& out) = 0;
  /// The server is done with the stream (it also ends the response if the
  /// producer did not). Once this returns, `wake` is never called again.
  /// Idempotent; any thread.
  virtual void close() noexcept = 0;
  /// How long the connection may stay silent before idle_bytes() are written.
  virtual std::chrono::milliseconds idle_period() const noexcept = 0;
  /// What keeps an idle connection alive (SSE: a comment line).
  virtual std::shared_ptr<const std::string> idle_bytes() const = 0;
};

} // namespace endure::console
