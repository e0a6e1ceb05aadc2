// Beast implementation of fake_openai_server: an accept loop and one
// coroutine per connection on the server's single io thread. Stopping is
// io_context::stop + join: pending reads, delays and hangs are abandoned and
// their frames (and sockets) destroyed with the io_context. This is the
// second of net/'s two Beast files.
#include "endure/net/fake_openai_server.hpp"

#include "endure/net/openai_codec.hpp"
#include "endure/net/sim_engine.hpp"
#include "endure/persistence/log.hpp"

#include <utility> // before asio/awaitable.hpp: Boost 1.74 needs std::exchange
#include "endure/net/detail/coroutine_support.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace endure::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

/// What to send back for one request.
struct planned {
  scripted_response response;
  bool hang = false;
};

using net::detail::awaitable_ec;
/// Logs what ended a coroutine (co_spawn's completion handler).
const auto log_exception = net::detail::exception_logger("endure::net::fake_openai_server");

std::string hex(std::size_t n) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

/// The status line and headers of a chunked answer, written by hand so the
/// body can go out piece by piece.
std::string chunked_head(const scripted_response& r) {
  auto status = static_cast<http::status>(r.status);
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                     std::string(http::obsolete_reason(status)) + "\r\n";
  for (const auto& h : r.headers)
    head += h.name + ": " + h.value + "\r\n";
  return head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
}

std::string not_found_body(std::string_view target) {
  return R"({"error":{"message":"no route for )" + std::string(target) +
         R"(; try /v1/chat/completions or /v1/embeddings","type":"invalid_request_error","code":null}})";
}

} // namespace

struct fake_openai_server::impl {
  fake_server_options options;
  asio::io_context io{1};
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{io};
  std::uint16_t bound_port = 0;
  std::atomic<std::size_t> request_count{0};
  std::atomic<std::size_t> connection_count{0};
  mutable std::mutex mutex; // guards script, log, seen
  mutable std::condition_variable arrived; // notified per request
  std::deque<scripted_response> script;
  std::vector<received_request> log;
  std::unordered_map<std::string, std::uint32_t> seen; ///< body -> times seen (the attempt)
  std::thread thread;

  explicit impl(fake_server_options opts) : options(std::move(opts)) {
    if (!options.tls_certificate_pem.empty() || !options.tls_private_key_pem.empty())
      setup_tls();
    error_code ec;
    tcp::endpoint ep{asio::ip::make_address(options.host, ec), options.port};
    if (ec)
      throw std::runtime_error("fake_openai_server: bad host '" + options.host + "': " + ec.message());
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep, ec);
    if (ec)
      throw std::runtime_error("fake_openai_server: cannot listen on " + options.host + ":" +
                               std::to_string(options.port) + ": " + ec.message());
    acceptor.listen();
    bound_port = acceptor.local_endpoint().port();
    asio::co_spawn(io, accept_loop(), log_exception);
    thread = std::thread([this] { io.run(); });
  }

  void setup_tls() {
    tls.emplace(ssl::context::tls_server);
    error_code ec;
    tls->use_certificate_chain(asio::buffer(options.tls_certificate_pem), ec);
    if (!ec)
      tls->use_private_key(asio::buffer(options.tls_private_key_pem), ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("fake_openai_server: bad TLS certificate or key PEM: " + ec.message());
  }

  planned plan(const http::request<http::string_body>& req) {
    std::lock_guard<std::mutex> lock(mutex);
    received_request r{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
    for (const auto& f : req)
      r.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    log.push_back(std::move(r));
    arrived.notify_all();
    if (!script.empty()) {
      planned p{std::move(script.front()), false};
      script.pop_front();
      return p;
    }
    if (options.fixed_answer)
      return {*options.fixed_answer};
    try {
      return simulate(req);
    } catch (const std::exception& e) { // e.g. a schema the sim cannot follow
      return {{500, {{"Content-Type", "application/json"}},
               encode_error_body(std::string("the fake server failed: ") + e.what(),
                                 "server_error", "")}};
    }
  }

  /// The sim's answer (caller holds the mutex).
  planned simulate(const http::request<http::string_body>& req) {
    std::string target(req.target());
    sim_reply reply;
    if (req.method() == http::verb::post && target == "/v1/chat/completions") {
      reply = simulate_chat(options.sim, req.body(), seen[req.body()]++);
    } else if (req.method() == http::verb::post && target == "/v1/embeddings") {
      reply = simulate_embeddings(options.sim, req.body(), seen[req.body()]++);
    } else if (req.method() == http::verb::get && target == "/v1/models") {
      return {{200, {{"Content-Type", "application/json"}},
               R"({"object":"list","data":[{"id":"sim","object":"model","owned_by":"endure"}]})"}};
    } else {
      return {{404, {{"Content-Type", "application/json"}}, not_found_body(target)}};
    }
    planned p{{reply.response.status, std::move(reply.response.headers),
               std::move(reply.response.body), reply.delay}};
    if (reply.fault == sim_fault::timeout) {
      p.hang = true;
      p.response.delay = options.hang;
    }
    return p;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64u << 20);
      co_await http::async_read(stream, buffer, parser, awaitable_ec(ec));
      if (ec)
        co_return;
      auto req = parser.release();
      ++request_count;
      planned p = plan(req);
      if (p.response.delay.count() > 0) {
        asio::steady_timer timer(io, p.response.delay);
        co_await timer.async_wait(awaitable_ec(ec));
      }
      if (p.hang)
        co_return; // a simulated timeout: never answer
      if (misbehaves(p.response)) {
        co_await misbehave(stream, socket, p.response);
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(p.response.status), 11};
      res.set(http::field::server, "endure-fake-openai");
      for (const auto& h : p.response.headers)
        res.set(h.name, h.value);
      res.body() = std::move(p.response.body);
      res.keep_alive(req.keep_alive() && !p.response.close_connection);
      res.prepare_payload();
      co_await http::async_write(stream, res, awaitable_ec(ec));
      if (ec || !res.keep_alive() || p.response.close_silently)
        break;
    }
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  }

  static bool misbehaves(const scripted_response& r) {
    return !r.raw.empty() || r.reset || r.stream || r.hang;
  }

  /// Serves a scripted misbehaviour; the connection ends after it.
  template <class Stream>
  asio::awaitable<void> misbehave(Stream& stream, tcp::socket& socket, const scripted_response& r) {
    error_code ec;
    if (r.hang) { // until the client hangs up (the read fails) or the server stops
      beast::flat_buffer sink;
      http::request<http::string_body> ignored;
      co_await http::async_read(stream, sink, ignored, awaitable_ec(ec));
      co_return;
    }
    if (!r.raw.empty())
      co_await asio::async_write(stream, asio::buffer(r.raw), awaitable_ec(ec));
    else if (r.stream)
      co_await drip(stream, r);
    if (r.reset) { // linger 0 makes close() send RST
      socket.set_option(asio::socket_base::linger(true, 0), ec);
      socket.close(ec);
    }
  }

  template <class Stream>
  asio::awaitable<void> drip(Stream& stream, const scripted_response& r) {
    error_code ec;
    co_await asio::async_write(stream, asio::buffer(chunked_head(r)), awaitable_ec(ec));
    std::string chunk = hex(r.body.size()) + "\r\n" + r.body + "\r\n";
    // An empty body has no chunk to repeat (and would spin): just the end.
    for (std::size_t i = 0; !ec && !r.body.empty() && (r.chunks == 0 || i < r.chunks); ++i) {
      if (r.chunk_interval.count() > 0) {
        asio::steady_timer timer(io, r.chunk_interval);
        co_await timer.async_wait(awaitable_ec(ec));
      }
      if (!ec)
        co_await asio::async_write(stream, asio::buffer(chunk), awaitable_ec(ec));
    }
    if (!ec)
      co_await asio::async_write(stream, asio::buffer(std::string("0\r\n\r\n")), awaitable_ec(ec));
  }

  asio::awaitable<void> session(tcp::socket socket) {
    if (!tls) {
      co_await serve(socket, socket);
      co_return;
    }
    beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls);
    error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server, awaitable_ec(ec));
    if (ec)
      co_return; // e.g. the client rejected our certificate
    co_await serve(stream, beast::get_lowest_layer(stream));
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(awaitable_ec(ec));
      if (ec)
        co_return;
      ++connection_count;
      asio::co_spawn(io, session(std::move(socket)), log_exception);
    }
  }
};

fake_openai_server::fake_openai_server(fake_server_options options)
  : impl_(std::make_unique<impl>(std::move(options))) {}

fake_openai_server::~fake_openai_server() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t fake_openai_server::port() const noexcept { return impl_->bound_port; }

std::string fake_openai_server::base_url() const {
  return std::string(impl_->tls ? "https" : "http") + "://" + impl_->options.host + ":" +
         std::to_string(impl_->bound_port) + "/v1";
}

void fake_openai_server::push(scripted_response response) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->script.push_back(std::move(response));
}

std::size_t fake_openai_server::scripted_left() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->script.size();
}

std::size_t fake_openai_server::requests() const noexcept { return impl_->request_count.load(); }

bool fake_openai_server::wait_for_requests(std::size_t n, std::chrono::milliseconds limit) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->arrived.wait_for(lock, limit, [&] { return impl_->log.size() >= n; });
}

std::size_t fake_openai_server::connections() const noexcept {
  return impl_->connection_count.load();
}

std::vector<received_request> fake_openai_server::received() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->log;
}

} // namespace endure::net
