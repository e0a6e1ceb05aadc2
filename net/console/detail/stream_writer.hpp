// Writes a streamed response (response_stream.hpp: Server-Sent Events) on
// a Beast stream of any kind (plain TCP, TLS): the console server's session
// hands such a response here and closes the connection when this returns.
// Include only from console_server.cpp (Beast). Runs on the io thread.
#pragma once

#include <utility>  // before asio/awaitable.hpp: Boost 1.74 needs std::exchange

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "endure/net/console/http_exchange.hpp"
#include "endure/net/console/response_stream.hpp"
#include "endure/net/detail/coroutine_support.hpp"

namespace endure::console::detail {

/// The kernel's send buffer of a streamed connection. Linux otherwise
/// grows it up to 4 MiB (tcp_wmem) even for a client that reads nothing,
/// so such a client would hold megabytes of kernel memory before the
/// stream's backlog (which decides when to drop it) even started to grow.
constexpr int stream_send_buffer = 64 * 1024;

/// Lets other threads post to the io thread until the server stops: after
/// close() nothing more is posted, so a stream's waker never touches an
/// io_context that is being destroyed.
class io_gate {
public:
  explicit io_gate(boost::asio::io_context::executor_type ex) : ex_(ex) {}
  template <class F>
  void post(F&& f) {
    std::lock_guard lock(mutex_);
    if (open_)
      boost::asio::post(ex_, std::forward<F>(f));
  }
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }

private:
  std::mutex mutex_;
  bool open_ = true;
  boost::asio::io_context::executor_type ex_;
};

/// What a stream's waker (which may outlive the writer) and its writer
/// share; touched on the io thread only.
struct stream_link {
  explicit stream_link(boost::asio::io_context::executor_type ex) : timer(ex) {}
  /// The writer waits on it between batches; a wake cancels the wait.
  boost::asio::steady_timer timer;
  /// The connection, to abandon a write in flight; null once the writer ended.
  boost::beast::tcp_stream* connection = nullptr;
  /// The stream was dropped (the client is too slow).
  bool dropped = false;
  /// The client closed its connection (or half-closed it: after its
  /// request it has nothing more to send on a stream that never ends).
  bool hung_up = false;
};

/// Notices a client that goes while its stream is quiet (otherwise only
/// the next write would, a keep-alive later): waits for the socket to turn
/// readable and peeks. End of file or an error: hung up. Bytes: on plain
/// TCP they are read and dropped (a stray CRLF), and it waits again; over
/// TLS they are records only the TLS layer may read (a key update, a
/// close_notify), so it stops watching and the next write finds out.
class hang_up_watch {
public:
  hang_up_watch(std::shared_ptr<stream_link> link, bool plain)
    : link_(std::move(link)), plain_(plain) {}

  void start() {
    if (auto* c = link_->connection)
      c->socket().async_wait(boost::asio::socket_base::wait_read, *this);
  }

  void operator()(boost::system::error_code ec) {
    auto* c = link_->connection;  // null once the writer ended (it may be gone)
    if (ec || !c)
      return;
    int fd = c->socket().native_handle();
    char byte;
    auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      link_->hung_up = true;
      link_->timer.cancel();
      return;
    }
    if (n > 0 && !plain_)
      return;
    if (n > 0) {
      char discard[512];
      (void) ::recv(fd, discard, sizeof discard, MSG_DONTWAIT);
    }
    start();
  }

private:
  std::shared_ptr<stream_link> link_;
  bool plain_;
};

/// Writes `answer`'s headers, then what its stream gives, until it ends,
/// is dropped, the client goes (closes or half-closes its connection, a
/// write fails or takes longer than `write_timeout`) or the server stops (this frame is then destroyed,
/// which closes the stream too).
template <class Stream>
boost::asio::awaitable<void> write_streamed(Stream& stream, http_response answer,
                                            unsigned version,
                                            std::chrono::milliseconds write_timeout,
                                            std::shared_ptr<io_gate> gate,
                                            boost::asio::io_context::executor_type ex) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  using net::detail::awaitable_ec;
  auto& source = *answer.stream;
  auto& connection = boost::beast::get_lowest_layer(stream);
  auto link = std::make_shared<stream_link>(ex);
  link->connection = &connection;
  struct closer {
    response_stream& source;
    stream_link& link;
    ~closer() {
      link.connection = nullptr;
      source.close();
    }
  } guard{source, *link};

  boost::system::error_code ec;
  connection.socket().set_option(asio::socket_base::send_buffer_size(stream_send_buffer), ec);
  {
    // No Content-Length: the body ends when the connection closes.
    http::response<http::empty_body> head{static_cast<http::status>(answer.status), version};
    head.set(http::field::content_type, answer.content_type);
    head.set(http::field::cache_control, "no-store");
    for (auto& [name, value] : answer.headers)
      head.set(name, value);
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{head};
    connection.expires_after(write_timeout);
    co_await http::async_write_header(stream, serializer, awaitable_ec(ec));
    if (ec)
      co_return;
  }
  source.start([gate, link](bool drop) {
    gate->post([link, drop] {
      link->timer.cancel();
      link->dropped |= drop;
      if (drop && link->connection)
        link->connection->cancel();  // the write in flight ends with operation_aborted
    });
  });
  hang_up_watch(link, std::is_same_v<Stream, boost::beast::tcp_stream>).start();
  response_stream::chunk out;
  std::vector<asio::const_buffer> buffers;
  for (;;) {
    if (link->hung_up)
      break;
    out.clear();
    auto state = source.take(out);
    if (state == response_stream::state::dropped) {
      link->dropped = true;
      break;
    }
    if (out.empty() && state == response_stream::state::open) {
      // Nothing now: wait for a wake (it cancels the wait) or the keep-alive.
      link->timer.expires_after(source.idle_period());
      co_await link->timer.async_wait(awaitable_ec(ec));
      if (ec == asio::error::operation_aborted)
        continue;
      out.push_back(source.idle_bytes());
    }
    if (!out.empty()) {
      buffers.clear();
      for (auto& bytes : out)
        buffers.emplace_back(bytes->data(), bytes->size());
      connection.expires_after(write_timeout);
      co_await asio::async_write(stream, buffers, awaitable_ec(ec));
      if (ec)
        break;
    }
    if (state == response_stream::state::ended)
      break;
  }
  if (link->dropped)  // reset, not close: what the client did not read is discarded
    connection.socket().set_option(asio::socket_base::linger(true, 0), ec);
}

} // namespace endure::console::detail
