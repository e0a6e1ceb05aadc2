// Beast implementation of console_server: an accept loop and one coroutine
// per connection on the io thread; each complete request goes to the
// handler on the handler pool (co_spawn there, awaited here), so a handler
// that blocks on the runtime never holds up another connection's reads and
// writes. Stopping is io_context::stop + join, then the pool is joined:
// pending reads are abandoned and their frames (and sockets) destroyed with
// the io_context. The only Beast file of endure_console.
#include "endure/net/console/console_server.hpp"

#include "endure/persistence/log.hpp"

#include <utility> // before asio/awaitable.hpp: Boost 1.74 needs std::exchange
#include "endure/net/detail/coroutine_support.hpp"
#include "endure/net/console/detail/stream_writer.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>

#include <nlohmann/json.hpp>
#include <thread>

namespace endure::console {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

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
  asio::io_context io{1};
  /// How streamed responses' producers reach the io thread (closed first at stop).
  std::shared_ptr<detail::io_gate> gate = std::make_shared<detail::io_gate>(io.get_executor());
  tcp::acceptor acceptor{io};
  std::atomic<std::size_t> open{0};
  std::string bound;
  std::uint16_t bound_port = 0;
  asio::thread_pool pool;
  std::thread thread;

  impl(server_options o, request_handler h)
    : options(std::move(o)), handler(std::move(h)),
      pool(std::max<std::size_t>(1, options.handler_threads)) {}

  expected<void> listen() {
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
    gate->close();
    io.stop();
    if (thread.joinable())
      thread.join();
    pool.join();  // handlers running now finish; their answers go nowhere
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket(io);
      co_await acceptor.async_accept(socket, awaitable_ec(ec));
      if (ec == asio::error::operation_aborted)
        co_return;
      if (ec)
        continue;  // e.g. the peer reset before we accepted: keep serving
      if (open.load() >= options.max_connections) {
        socket.close(ec);  // over the cap: the client retries later
        continue;
      }
      ++open;
      asio::co_spawn(io, session(std::move(socket)), [this](std::exception_ptr e) {
        --open;
        log_exception(e);
      });
    }
  }

  /// The handler's answer; runs on the pool (see handled). A member
  /// coroutine taking the request by value, not a capturing lambda: g++ 12
  /// destroys a coroutine lambda's captures twice under co_spawn.
  asio::awaitable<http_response> on_pool(http_request req) {
    try {
      co_return handler(req);
    } catch (const std::exception& e) {
      // The detail goes to the operator's log, not to the client.
      log::error("endure console: " + req.method + " " + req.target + " failed: " + e.what());
      co_return error_response(500, "internal_error",
                               "the console failed on this request; the server's log says why");
    }
  }

  /// Runs the handler on the pool; resumes here (the io thread) with its answer.
  asio::awaitable<http_response> handled(http_request req) {
    co_return co_await asio::co_spawn(pool.get_executor(), on_pool(std::move(req)),
                                      asio::use_awaitable);
  }

  asio::awaitable<void> session(tcp::socket socket) {
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string{"unknown"} : peer.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      stream.expires_after(options.read_timeout);
      co_await http::async_read(stream, buffer, parser, awaitable_ec(ec));
      if (ec) {
        if (auto answer = refusal(ec, options)) {
          auto res = to_beast(*answer, false, 11);
          stream.expires_after(options.read_timeout);
          co_await http::async_write(stream, res, awaitable_ec(ec));
        }
        break;
      }
      auto& req = parser.get();
      http_request in{std::string(req.method_string()), std::string(req.target()),
                      std::string(req[http::field::authorization]), std::move(req.body()),
                      remote};
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      auto answer = co_await handled(std::move(in));
      if (answer.stream) {  // Server-Sent Events: the connection is the stream's now
        co_await detail::write_streamed(stream, std::move(answer), version, options.read_timeout,
                                        gate, io.get_executor());
        break;
      }
      auto res = to_beast(answer, keep_alive, version);
      stream.expires_after(options.read_timeout);  // a client that never reads
      co_await http::async_write(stream, res, awaitable_ec(ec));
      if (ec || !keep_alive)
        break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
};

expected<std::unique_ptr<console_server>> console_server::start(server_options options,
                                                                 request_handler handler) {
  auto p = std::make_unique<impl>(std::move(options), std::move(handler));
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

std::size_t console_server::open_connections() const noexcept {
  return impl_->open.load();
}

} // namespace endure::console
