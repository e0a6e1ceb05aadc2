// Beast implementation of console_server: an accept loop and one coroutine
// per connection on the io thread; each complete request goes to the
// handler on the handler pool (co_spawn there, awaited here), so a handler
// that blocks on the runtime never holds up another connection's reads and
// writes. One session() serves plain and TLS streams alike (a template over
// the stream). The cap's bookkeeping (connection_slot) lives on the io
// thread only. Stopping is io_context::stop + join, then the pool is
// joined: pending reads are abandoned and their frames (and sockets)
// destroyed with the io_context. The only Beast file of endure_console.
#include "endure/net/console/console_server.hpp"

#include "endure/net/console/tls_context.hpp"
#include "endure/persistence/log.hpp"

#include <utility> // before asio/awaitable.hpp: Boost 1.74 needs std::exchange
#include "endure/net/detail/coroutine_support.hpp"
#include "endure/net/console/detail/stream_writer.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <list>

#include <nlohmann/json.hpp>
#include <thread>

namespace endure::console {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

using net::detail::awaitable_ec;
/// Logs what ended a coroutine (co_spawn's completion handler).
const auto log_exception = net::detail::exception_logger("endure console");

/// The answer to a request the parser refused, or nullopt when the
/// connection just ended (closed, timed out, reset): nobody to answer.
std::optional<http_response> refusal(const error_code& ec, const server_options& o) {
  if (ec == http::error::body_limit)
    return error_response(413, "body_too_large",
                          "the request body is larger than " + std::to_string(o.body_limit) +
                            " bytes; send a smaller body");
  if (ec == http::error::header_limit)
    return error_response(431, "headers_too_large",
                          "the request line and headers are larger than " +
                            std::to_string(o.header_limit) + " bytes");
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category()
      && ec != http::error::end_of_stream
      && ec != http::error::partial_message)
    return error_response(400, "malformed_request",
                          "the request is not valid HTTP/1.1 (" + ec.message() + ")");
  return std::nullopt;
}

http::response<http::string_body> to_beast(const http_response& r, bool keep_alive,
                                           unsigned version) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (auto& [name, value] : r.headers)
    res.set(name, value);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

/// Writes `res`; only its header when `head_only` (the answer to HEAD:
/// Content-Length says what GET would send, no body follows).
template <class Stream>
asio::awaitable<error_code> write_answer(Stream& stream, http::response<http::string_body>& res,
                                         bool head_only) {
  error_code ec;
  http::response_serializer<http::string_body> sr{res};
  if (head_only)
    co_await http::async_write_header(stream, sr, awaitable_ec(ec));
  else
    co_await http::async_write(stream, sr, awaitable_ec(ec));
  co_return ec;
}

/// Ends what this side sends. TLS has no half-close that clients honour
/// (close_notify ends both ways in TLS 1.2): a TLS client reads to the
/// answer's end (Content-Length) instead.
void shutdown_send(plain_stream& s) {
  error_code ec;
  s.socket().shutdown(tcp::socket::shutdown_send, ec);
}
void shutdown_send(tls_stream&) {}

/// Closes the connection politely: FIN, or TLS's close_notify (waiting a
/// moment for the client's, which a client that just leaves never sends).
asio::awaitable<void> close_gracefully(plain_stream& s) {
  shutdown_send(s);
  co_return;
}
asio::awaitable<void> close_gracefully(tls_stream& s) {
  error_code ec;
  beast::get_lowest_layer(s).expires_after(std::chrono::seconds(1));
  co_await s.async_shutdown(awaitable_ec(ec));
}

/// How long a refused client may go on sending before the close (linger).
constexpr std::chrono::milliseconds linger_limit{5'000};

/// How long the accept loop pauses after an error such as EMFILE (no file
/// descriptor left): retrying at once would spin the io thread at 100 %
/// while the condition lasts.
constexpr std::chrono::milliseconds accept_backoff{100};

/// Seconds a client refused at the stream cap is asked to wait (Retry-After).
constexpr int stream_retry_after_s = 10;

/// One open connection as the cap sees it. io thread only.
struct connection_slot {
  std::string address;  ///< the client's IP address
  /// Waiting for a request (reading it, or nothing yet), with no handler
  /// running and nothing being written: a connection that may be closed
  /// for a newcomer at the cap, the one waiting longest first.
  bool waiting = true;
  std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  /// Closes the connection's socket (its coroutine then ends); empty once
  /// the coroutine ended.
  std::function<void()> close;
  bool evicted = false;
  /// Carries a streamed response (Server-Sent Events): counted against
  /// max_streams, not max_connections, and never evicted.
  bool streamed = false;
};
using slot_ref = std::list<connection_slot>::iterator;

} // namespace

http_response error_response(int status, std::string_view code, std::string_view message) {
  http_response r;
  r.status = status;
  // Messages echo client input (ids, query values): invalid UTF-8 in it is
  // replaced, so the body is always valid JSON.
  nlohmann::json body{{"error", code}, {"message", message}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

struct console_server::impl {
  server_options options;
  request_handler handler;
  quick_handler quick;
  std::list<connection_slot> slots;  // io thread only; outlives io (frames point here)
  std::size_t live = 0;  // slots not evicted and not streamed (max_connections)
  std::size_t streams = 0;  // slots streamed and not evicted (max_streams); io thread only
  /// Set first at stop: handlers queued but not started answer 503 at once.
  std::atomic<bool> stopping{false};
  std::optional<ssl::context> tls;  // outlives io: the frames' TLS streams use it
  asio::io_context io{1};
  /// How streamed responses' producers reach the io thread (closed first at stop).
  std::shared_ptr<detail::io_gate> gate = std::make_shared<detail::io_gate>(io.get_executor());
  tcp::acceptor acceptor{io};
  std::atomic<std::size_t> open{0};
  std::string bound;
  std::uint16_t bound_port = 0;
  asio::thread_pool pool;
  std::thread thread;

  impl(server_options o, request_handler h, quick_handler q)
    : options(std::move(o)), handler(std::move(h)), quick(std::move(q)),
      pool(std::max<std::size_t>(1, options.handler_threads)) {}

  expected<void> load_tls() {
    if (options.tls_certificate.empty() && options.tls_key.empty())
      return {};
    if (options.tls_certificate.empty() || options.tls_key.empty())
      return make_error(errc::invalid_argument,
                        std::string("console: TLS needs both a certificate and a key file; only "
                                    "the ") + (options.tls_key.empty() ? "certificate" : "key") +
                          " was given");
    auto ctx = load_tls_context({options.tls_certificate, options.tls_key});
    if (!ctx)
      return make_error(ctx.error().code, "console: " + ctx.error().message);
    tls.emplace(ctx->release());  // the context owns the SSL_CTX from here
    return {};
  }

  expected<void> listen() {
    if (auto ok = load_tls(); !ok)
      return ok;
    error_code ec;
    auto address = asio::ip::make_address(options.host, ec);
    if (ec)
      return make_error(errc::invalid_argument,
                        "console: '" + options.host + "' is not an IP address (" + ec.message() +
                          "); give one such as 127.0.0.1");
    tcp::endpoint ep{address, options.port};
    acceptor.open(ep.protocol(), ec);
    if (!ec)
      acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor.bind(ep, ec);
    if (!ec)
      acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return make_error(errc::io_error, "console: cannot listen on " + options.host + ":" +
                                          std::to_string(options.port) + ": " + ec.message() +
                                          "; choose another address or port");
    auto local = acceptor.local_endpoint();
    bound_port = local.port();
    bound = local.address().to_string() + ":" + std::to_string(local.port());
    asio::co_spawn(io, accept_loop(), log_exception);
    thread = std::thread([this] { io.run(); });
    return {};
  }

  void stop() {
    stopping = true;  // before the joins: queued handlers answer without running
    gate->close();
    io.stop();
    if (thread.joinable())
      thread.join();
    pool.join();  // handlers running now finish (queued ones see stopping); answers go nowhere
  }

  /// Makes room for a newcomer from `peer`: at its address's share (not
  /// for loopback) or at the cap, closes the connection (of that address,
  /// or any) waiting longest for a request, so one client opening many
  /// connections and saying nothing cannot lock the others out. False when
  /// every such connection is busy: the newcomer is refused.
  bool make_room(const asio::ip::address& peer) {
    auto address = peer.to_string();
    if (!peer.is_loopback()) {
      auto same = std::count_if(slots.begin(), slots.end(), [&](const connection_slot& s) {
        return !s.evicted && s.address == address;
      });
      if (static_cast<std::size_t>(same) >= options.max_per_address)
        return evict_oldest(&address);
    }
    if (live < options.max_connections)
      return true;
    return evict_oldest(nullptr);
  }

  /// Closes the connection waiting longest for a request (from `address`
  /// when given); false when there is none.
  bool evict_oldest(const std::string* address) {
    auto oldest = slots.end();
    for (auto it = slots.begin(); it != slots.end(); ++it)
      if (!it->evicted && it->waiting && it->close && (!address || it->address == *address)
          && (oldest == slots.end() || it->since < oldest->since))
        oldest = it;
    if (oldest == slots.end())
      return false;
    oldest->evicted = true;
    --live;
    oldest->close();
    return true;
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer backoff(io);
    bool failing = false;  // logged once per spell of failures, not every 100 ms
    for (;;) {
      error_code ec;
      tcp::socket socket(io);
      co_await acceptor.async_accept(socket, awaitable_ec(ec));
      if (ec == asio::error::operation_aborted)
        co_return;
      if (ec) {
        // E.g. EMFILE (no descriptor left) or the peer reset before we
        // accepted: keep serving, but pause, so a lasting condition does
        // not spin the io thread (the pending connection stays queued).
        if (!std::exchange(failing, true))
          log::warn("endure console: accepting a connection failed (" + ec.message() +
                    "); retrying every " + std::to_string(accept_backoff.count()) +
                    " ms (at EMFILE: raise `ulimit -n` or lower --max-streams)");
        backoff.expires_after(accept_backoff);
        co_await backoff.async_wait(awaitable_ec(ec));
        continue;
      }
      failing = false;
      auto peer = socket.remote_endpoint(ec);
      if (ec || !make_room(peer.address())) {
        socket.close(ec);  // gone already, or every connection busy: the client retries later
        continue;
      }
      ++open;
      ++live;
      connection_slot fresh;
      fresh.address = peer.address().to_string();
      auto slot = slots.insert(slots.end(), std::move(fresh));
      asio::co_spawn(io, connection(std::move(socket), slot), [this, slot](std::exception_ptr e) {
        --open;
        if (!slot->evicted)
          --(slot->streamed ? streams : live);
        slots.erase(slot);
        log_exception(e);
      });
    }
  }

  /// Clears the slot's close() when the connection's coroutine ends (or
  /// its frame is destroyed at stop): the stream it closes is gone.
  struct unhook {
    slot_ref slot;
    ~unhook() { slot->close = nullptr; slot->waiting = false; }
  };

  /// One connection: TLS handshake first when TLS is on, then session().
  asio::awaitable<void> connection(tcp::socket socket, slot_ref slot) {
    unhook guard{slot};
    if (!tls) {
      plain_stream stream(std::move(socket));
      slot->close = [&stream] { stream.close(); };
      co_await session(stream, *slot);
      co_return;
    }
    tls_stream stream(std::move(socket), *tls);
    slot->close = [&stream] { beast::get_lowest_layer(stream).close(); };
    // Bounded like a request: a client that never finishes the handshake
    // (or speaks plain HTTP to this port) is dropped, unanswered.
    beast::get_lowest_layer(stream).expires_after(options.read_timeout);
    error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server, awaitable_ec(ec));
    if (ec)
      co_return;
    co_await session(stream, *slot);
  }

  /// The handler's answer; runs on the pool (see handled). A member
  /// coroutine taking the request by value, not a capturing lambda: g++ 12
  /// destroys a coroutine lambda's captures twice under co_spawn.
  asio::awaitable<http_response> on_pool(http_request req) {
    // Queued before stop() and reached only now: answering without the
    // handler keeps stop() from waiting for every queued request in turn
    // (each may wait the runtime's answer limit). The answer goes nowhere.
    if (stopping)
      co_return error_response(503, "shutting_down", "the server is stopping; retry when it is "
                                                     "back");
    try {
      co_return handler(req);
    } catch (const std::exception& e) {
      // The detail goes to the operator's log, not to the client.
      log::error("endure console: " + req.method + " " + req.target + " failed: " + e.what());
      co_return error_response(500, "internal_error",
                               "the console failed on this request; the server's log says why");
    }
  }

  /// The quick handler's answer, if it has one (on the io thread: health
  /// checks are heard while every pool thread waits on the runtime), else
  /// the handler's on the pool; resumes here (the io thread) with it.
  asio::awaitable<http_response> handled(http_request req) {
    if (quick)
      if (auto now = quick(req))
        co_return std::move(*now);
    co_return co_await asio::co_spawn(pool.get_executor(), on_pool(std::move(req)),
                                      asio::use_awaitable);
  }

  /// After a refusal (431, 413, 400): the client may still be sending (a
  /// large body). Closing now would reset the connection and the client
  /// could lose the answer, so stop sending, then read and drop what it
  /// sends until it closes, for a bounded time.
  template <class Stream>
  asio::awaitable<void> linger(Stream& stream) {
    shutdown_send(stream);
    beast::get_lowest_layer(stream).expires_after(std::min(options.read_timeout, linger_limit));
    std::array<char, 16 * 1024> scratch;
    error_code ec;
    while (!ec)
      co_await stream.async_read_some(asio::buffer(scratch), awaitable_ec(ec));
  }

  /// Moves `slot` from the connections (max_connections) to the streams
  /// (max_streams), so open streams never take an ordinary request's
  /// room; false at the stream cap.
  bool become_stream(connection_slot& slot) {
    // Not reached today (a connection with a request in progress is never
    // evicted), but an evicted slot is out of both counts: leave them be.
    if (slot.evicted)
      return true;
    if (streams >= options.max_streams)
      return false;
    slot.streamed = true;
    --live;
    ++streams;
    return true;
  }

  static http_response without_stream(http_response answer) {
    answer.stream.reset();
    answer.body.clear();
    return answer;
  }

  http_response streams_full() const {
    auto r = error_response(503, "too_many_streams",
                            "the server has " + std::to_string(options.max_streams) +
                              " event streams open, its limit; retry later (the REST routes "
                              "still answer)");
    r.headers.emplace_back("Retry-After", std::to_string(stream_retry_after_s));
    return r;
  }

  template <class Stream>
  asio::awaitable<void> session(Stream& stream, connection_slot& slot) {
    error_code ec;
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      slot.waiting = true;
      slot.since = std::chrono::steady_clock::now();
      beast::get_lowest_layer(stream).expires_after(options.read_timeout);
      co_await http::async_read(stream, buffer, parser, awaitable_ec(ec));
      slot.waiting = false;
      if (ec) {
        if (auto answer = refusal(ec, options)) {
          auto res = to_beast(*answer, false, 11);  // Connection: close
          beast::get_lowest_layer(stream).expires_after(options.read_timeout);
          if (!co_await write_answer(stream, res, false))
            co_await linger(stream);
        }
        break;
      }
      auto& req = parser.get();
      http_request in{std::string(req.method_string()), std::string(req.target()),
                      std::string(req[http::field::authorization]), std::move(req.body()),
                      slot.address};
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      bool head = req.method() == http::verb::head;
      auto answer = co_await handled(std::move(in));
      if (answer.stream && (head || !become_stream(slot))) {
        // HEAD gets the stream's headers only; at the stream cap, a 503.
        answer.stream->close();
        answer = head ? without_stream(std::move(answer)) : streams_full();
      }
      if (answer.stream) {  // Server-Sent Events: the connection is the stream's now
        co_await detail::write_streamed(stream, std::move(answer), version, options.read_timeout,
                                        gate, io.get_executor());
        break;
      }
      auto res = to_beast(answer, keep_alive, version);
      beast::get_lowest_layer(stream).expires_after(options.read_timeout);  // a client that never reads
      ec = co_await write_answer(stream, res, head);
      if (ec || !keep_alive)
        break;
    }
    co_await close_gracefully(stream);
  }
};

expected<std::unique_ptr<console_server>> console_server::start(server_options options,
                                                                 request_handler handler,
                                                                 quick_handler quick) {
  auto p = std::make_unique<impl>(std::move(options), std::move(handler), std::move(quick));
  if (auto ok = p->listen(); !ok)
    return std::move(ok).error();
  return std::unique_ptr<console_server>(new console_server(std::move(p)));
}

console_server::console_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

console_server::~console_server() {
  impl_->stop();
}

std::uint16_t console_server::port() const noexcept {
  return impl_->bound_port;
}

std::string console_server::address() const {
  return impl_->bound;
}

bool console_server::tls() const noexcept {
  return impl_->tls.has_value();
}

std::size_t console_server::open_connections() const noexcept {
  return impl_->open.load();
}

} // namespace endure::console
