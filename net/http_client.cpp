// The Beast/Asio/OpenSSL implementation of http_client: one C++20 coroutine
// per request on the client's single io thread, a keep-alive pool per
// scheme://host:port, and a registry of live connections so the destructor
// can cancel them. This is one of the two Beast files (slow to compile).
#include "net/http_client.hpp"

#include "net/url.hpp"

#include <utility> // before asio/awaitable.hpp: Boost 1.74 needs std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

namespace endure::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;

namespace {

/// One TCP (optionally TLS) connection and its read buffer.
struct connection {
  std::string key;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

using connection_ptr = std::unique_ptr<connection>;

/// How one write+read on a connection ended.
struct exchange_outcome {
  error_code ec;
  bool got_bytes = false;
  std::optional<http_response> response;
  bool keep_alive = false;
};

auto awaitable_ec(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string host_header(const url_parts& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != (u.tls ? 443 : 80))
    host += ":" + std::to_string(u.port);
  return host;
}

} // namespace

struct http_client::impl {
  http_client_options options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  ssl::context tls{ssl::context::tls_client};
  std::string tls_setup_error; ///< non-empty: every https request fails with it
  std::atomic<std::size_t> opened{0};
  // -- state owned by the io thread --
  bool stopping = false;
  std::unordered_map<std::string, std::vector<connection_ptr>> idle;
  std::set<connection*> active;
  std::set<tcp::resolver*> resolving;
  std::thread thread;

  explicit impl(http_client_options opts) : options(std::move(opts)) {
    setup_tls();
    thread = std::thread([this] { io.run(); });
  }

  void setup_tls() {
    error_code ec;
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.set_verify_mode(options.tls.verify_peer ? ssl::verify_peer : ssl::verify_none);
    if (options.tls.use_system_store)
      tls.set_default_verify_paths(ec); // a missing store only matters if used
    if (!options.tls.ca_file.empty()) {
      tls.load_verify_file(options.tls.ca_file, ec);
      if (ec)
        tls_setup_error = "cannot load tls_options.ca_file '" + options.tls.ca_file +
                          "': " + ec.message() + "; it must be a PEM certificate file";
    }
    if (!options.tls.ca_pem.empty()) {
      tls.add_certificate_authority(asio::buffer(options.tls.ca_pem), ec);
      if (ec)
        tls_setup_error = "cannot use tls_options.ca_pem: " + ec.message() +
                          "; it must hold PEM certificates";
    }
  }

  // -- pool ------------------------------------------------------------------

  connection_ptr take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty())
      return nullptr;
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    return conn;
  }

  void put_idle(connection_ptr conn) {
    auto& slot = idle[conn->key];
    if (stopping || slot.size() >= options.max_idle_per_host)
      return; // dropping it closes the socket
    conn->lowest().expires_never();
    slot.push_back(std::move(conn));
  }

  void stop_all() {
    stopping = true;
    idle.clear();
    for (auto* c : active)
      c->lowest().close();
    for (auto* r : resolving)
      r->cancel();
  }

  // -- one request -----------------------------------------------------------

  endure::failure transport_failure(const error_code& ec, const url_parts& u, const char* phase,
                                    std::chrono::milliseconds timeout) const {
    std::string where = u.host + ":" + std::to_string(u.port);
    if (stopping)
      return make_failure(failure_class::retryable, "HTTP client shut down while " +
                                                      std::string(phase) + " " + where);
    if (ec == beast::error::timeout)
      return make_failure(failure_class::retryable,
                          "request to " + where + " timed out after " +
                            std::to_string(timeout.count()) + " ms while " + phase +
                            "; the server is slow or unreachable, retry or raise the timeout");
    if (ec == http::error::body_limit || ec == http::error::header_limit)
      return make_failure(failure_class::fatal,
                          "response from " + where + " is larger than the limit of " +
                            std::to_string(options.max_response_bytes) +
                            " bytes; raise http_client_options::max_response_bytes");
    if (ec == asio::error::connection_refused)
      return make_failure(failure_class::retryable, "connection to " + where +
                                                      " refused; is the server running?");
    return make_failure(failure_class::retryable,
                        std::string("network error while ") + phase + " " + where + ": " +
                          ec.message());
  }

  endure::failure tls_failure(connection& c, const error_code& ec, const url_parts& u,
                              std::chrono::milliseconds timeout) const {
    long verify = SSL_get_verify_result(c.secure->native_handle());
    if (verify == X509_V_OK)
      return transport_failure(ec, u, "in the TLS handshake with", timeout);
    return make_failure(failure_class::fatal,
                        "TLS certificate of " + u.host + ":" + std::to_string(u.port) +
                          " is not trusted: " + X509_verify_cert_error_string(verify) +
                          "; to trust a private or self-signed server set tls_options.ca_file "
                          "or ca_pem (or verify_peer=false for demos only)");
  }

  asio::awaitable<result<connection_ptr>> connect(const url_parts& u, const std::string& key,
                                                  clock::time_point deadline,
                                                  std::chrono::milliseconds timeout) {
    auto conn = std::make_unique<connection>();
    conn->key = key;
    if (u.tls) {
      conn->secure.emplace(io, tls);
      SSL* ssl = conn->secure->native_handle();
      error_code ip_ec;
      asio::ip::make_address(u.host, ip_ec);
      bool is_ip = !ip_ec;
      if (!is_ip)
        SSL_set_tlsext_host_name(ssl, u.host.c_str()); // SNI: never for IP literals
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), 0);
    } else {
      conn->plain.emplace(io);
    }
    active.insert(conn.get());
    struct unregister {
      impl* self; connection* c;
      ~unregister() { self->active.erase(c); }
    } guard_active{this, conn.get()};

    error_code ec;
    tcp::resolver resolver(io);
    resolving.insert(&resolver);
    auto endpoints = co_await resolver.async_resolve(u.host, std::to_string(u.port), awaitable_ec(ec));
    resolving.erase(&resolver);
    if (ec || stopping)
      co_return transport_failure(ec, u, "resolving", timeout);
    conn->lowest().expires_at(deadline);
    co_await conn->lowest().async_connect(endpoints, awaitable_ec(ec));
    if (ec)
      co_return transport_failure(ec, u, "connecting to", timeout);
    ++opened;
    if (u.tls) {
      conn->lowest().expires_at(deadline);
      co_await conn->secure->async_handshake(ssl::stream_base::client, awaitable_ec(ec));
      if (ec)
        co_return tls_failure(*conn, ec, u, timeout);
    }
    co_return std::move(conn);
  }

  template <class Stream>
  asio::awaitable<void> write_read(Stream& stream, connection& c,
                                   http::request<http::string_body>& msg,
                                   clock::time_point deadline, exchange_outcome& out) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    parser.header_limit(64 * 1024);
    c.lowest().expires_at(deadline);
    co_await http::async_write(stream, msg, awaitable_ec(out.ec));
    if (out.ec)
      co_return;
    // Header first: Beast 1.74 loses the body_limit error for a
    // Content-Length body that arrives in the same read as the header
    // (eager parsing resets it), so the declared length is checked here.
    c.lowest().expires_at(deadline);
    co_await http::async_read_header(stream, c.buffer, parser, awaitable_ec(out.ec));
    out.got_bytes = parser.got_some();
    if (out.ec)
      co_return;
    if (auto length = parser.content_length(); length && *length > options.max_response_bytes) {
      out.ec = http::error::body_limit;
      co_return;
    }
    co_await http::async_read(stream, c.buffer, parser, awaitable_ec(out.ec));
    if (out.ec)
      co_return;
    auto& res = parser.get();
    http_response response;
    response.status = static_cast<int>(res.result_int());
    for (const auto& field : res)
      response.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    response.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    out.response = std::move(response);
  }

  asio::awaitable<result<http_response>> run(http_request req) {
    auto u = parse_url(req.url);
    if (!u)
      co_return make_failure(failure_class::fatal, u.error().message);
    if (u->tls && !tls_setup_error.empty())
      co_return make_failure(failure_class::fatal, tls_setup_error);
    auto verb = http::string_to_verb(req.method);
    if (verb == http::verb::unknown)
      co_return make_failure(failure_class::fatal, "unknown HTTP method '" + req.method + "'");
    auto timeout = req.timeout.count() > 0 ? req.timeout : options.default_timeout;
    auto deadline = clock::now() + timeout;

    http::request<http::string_body> msg{verb, u->target, 11};
    msg.set(http::field::host, host_header(*u));
    msg.set(http::field::user_agent, options.user_agent);
    for (const auto& h : req.headers)
      msg.set(h.name, h.value);
    msg.body() = std::move(req.body);
    msg.keep_alive(true);
    msg.prepare_payload();

    std::string key = (u->tls ? "https://" : "http://") + u->host + ":" + std::to_string(u->port);
    for (int attempt = 0;; ++attempt) {
      if (stopping)
        co_return transport_failure({}, *u, "starting a request to", timeout);
      connection_ptr conn = attempt == 0 ? take_idle(key) : nullptr;
      bool reused = conn != nullptr;
      if (!conn) {
        auto fresh = co_await connect(*u, key, deadline, timeout);
        if (!fresh)
          co_return std::move(fresh).error();
        conn = std::move(*fresh);
      }
      exchange_outcome out;
      active.insert(conn.get());
      if (conn->secure)
        co_await write_read(*conn->secure, *conn, msg, deadline, out);
      else
        co_await write_read(*conn->plain, *conn, msg, deadline, out);
      active.erase(conn.get());
      if (out.ec && reused && !out.got_bytes && out.ec != beast::error::timeout && !stopping)
        continue; // the server closed the idle connection: once more, fresh
      if (out.ec)
        co_return transport_failure(out.ec, *u, "exchanging with", timeout);
      out.response->reused_connection = reused;
      if (out.keep_alive)
        put_idle(std::move(conn));
      co_return std::move(*out.response);
    }
  }

  asio::awaitable<void> serve(http_request req, callback done) {
    std::optional<result<http_response>> r;
    try {
      r.emplace(co_await run(std::move(req)));
    } catch (const std::exception& e) {
      r.emplace(make_failure(failure_class::retryable, std::string("HTTP client error: ") + e.what()));
    }
    try {
      done(std::move(*r));
    } catch (const std::exception& e) {
      // A throwing callback must not take the client's thread down.
      std::fprintf(stderr, "endure::net::http_client: callback threw: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "endure::net::http_client: callback threw a non-exception\n");
    }
  }
};

http_client::http_client(http_client_options options)
  : impl_(std::make_unique<impl>(std::move(options))) {}

http_client::~http_client() {
  if (std::this_thread::get_id() == impl_->thread.get_id()) {
    std::fprintf(stderr, "endure::net::http_client destroyed from its own callback\n");
    std::terminate();
  }
  asio::post(impl_->io, [i = impl_.get()] { i->stop_all(); });
  impl_->guard.reset();
  impl_->thread.join();
}

void http_client::send(http_request request, callback done) {
  asio::co_spawn(impl_->io, impl_->serve(std::move(request), std::move(done)), asio::detached);
}

std::size_t http_client::connections_opened() const noexcept { return impl_->opened.load(); }

const http_client_options& http_client::options() const noexcept { return impl_->options; }

} // namespace endure::net
