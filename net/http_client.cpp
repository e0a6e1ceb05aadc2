// The Beast/Asio/OpenSSL implementation of http_client: one C++20 coroutine
// per request on the client's single io thread, a keep-alive pool per
// scheme://host:port, and a registry of the requests in flight.
//
// Exactly once, whatever happens: each request is a `call` that owns the
// callback and a deadline timer. The callback is invoked only by finish(),
// which runs at most once per call and is reached from every end: the
// coroutine's result, an exception out of it, the deadline (whatever the
// coroutine waits on then: the system resolver, which cannot be
// interrupted, a server that never answers or never ends its body), and
// shutdown. A coroutine that resumes after its call was finished stops
// without touching the result. This is one of the two Beast files (slow to
// compile).
#include "endure/net/http_client.hpp"

#include "endure/net/url.hpp"
#include "endure/persistence/log.hpp"

#include <utility> // before asio/awaitable.hpp: Boost 1.74 needs std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/x509v3.h>

#include <atomic>
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
using parser_type = http::response_parser<http::string_body>;

namespace {

constexpr std::size_t header_limit = 64 * 1024;

/// One TCP (optionally TLS) connection and its read buffer.
struct connection {
  std::string key;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

using connection_ptr = std::unique_ptr<connection>;

/// Where a request is, for the messages of failures and timeouts.
enum class phase : std::uint8_t { starting, resolving, connecting, handshaking, sending,
                                  waiting, reading_body };

const char* to_text(phase p) {
  switch (p) {
    case phase::starting: return "starting";
    case phase::resolving: return "resolving the host name";
    case phase::connecting: return "connecting";
    case phase::handshaking: return "in the TLS handshake";
    case phase::sending: return "sending the request";
    case phase::waiting: return "waiting for the answer";
    case phase::reading_body: return "reading the answer's body";
  }
  return "talking to the server";
}

/// One request in flight: its callback, its deadline and what it waits on,
/// so the deadline or a shutdown can end it wherever it is.
struct call {
  call(asio::io_context& io, http_client::callback cb) : done(std::move(cb)), deadline(io) {}

  http_client::callback done;
  asio::steady_timer deadline;
  std::chrono::milliseconds timeout{0};
  std::string where = "?"; ///< host:port
  phase at = phase::starting;
  connection* conn = nullptr;        ///< the connection in use, if any
  tcp::resolver* resolver = nullptr; ///< the lookup in progress, if any
  const parser_type* parser = nullptr; ///< the answer being read, if any
  std::size_t body_received = 0;       ///< once the read ended
  bool finished = false;               ///< the callback has run

  std::string progress() const {
    if (at != phase::reading_body)
      return {};
    auto bytes = parser ? parser->get().body().size() : body_received;
    return " (" + std::to_string(bytes) + " body bytes received)";
  }
};

using call_ptr = std::shared_ptr<call>;

/// Sets a pointer of the call for the duration of a scope.
template <class T>
struct in_use {
  T*& slot;
  in_use(T*& s, T* value) : slot(s) { slot = value; }
  ~in_use() { slot = nullptr; }
  in_use(const in_use&) = delete;
  in_use& operator=(const in_use&) = delete;
};

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

/// The peer closed or reset the connection: the answer was cut.
bool is_cut(const error_code& ec) {
  return ec == http::error::partial_message || ec == http::error::end_of_stream ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == ssl::error::stream_truncated;
}

/// Beast's parser rejected the bytes: whatever answered does not speak HTTP.
/// (Checked after is_cut and the limits, which share the category.)
bool is_not_http(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
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
  std::set<call*> in_flight;
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
    // Bytes beyond the answer mean the server sent more than it declared:
    // they would be read as the next answer, so the connection is dropped.
    if (stopping || slot.size() >= options.max_idle_per_host || conn->buffer.size() > 0)
      return; // dropping it closes the socket
    slot.push_back(std::move(conn));
  }

  // -- ending a call: the only path to the callback ----------------------------

  /// Runs the callback once; later calls (a coroutine resuming after the
  /// deadline, say) do nothing.
  void finish(call& c, result<http_response> r) {
    if (c.finished)
      return;
    c.finished = true;
    c.deadline.cancel();
    in_flight.erase(&c);
    auto done = std::move(c.done);
    try {
      done(std::move(r));
    } catch (const std::exception& e) {
      // It ran; a throwing callback must not take the client's thread down.
      log::error(std::string("endure::net::http_client: a request's callback threw: ") +
                 e.what() + "; callbacks must not throw");
    } catch (...) {
      log::error("endure::net::http_client: a request's callback threw a non-exception");
    }
  }

  /// Stops whatever the call waits on, so its coroutine resumes and ends.
  static void abort(call& c) {
    if (c.conn) {
      error_code ignored;
      c.conn->lowest().socket().close(ignored);
    }
    if (c.resolver)
      c.resolver->cancel(); // a lookup already inside getaddrinfo finishes later, unheard
  }

  void arm_deadline(const call_ptr& c) {
    c->deadline.expires_after(c->timeout);
    c->deadline.async_wait([this, c](const error_code& ec) {
      if (ec || c->finished)
        return;
      std::string message = "request to " + c->where + " timed out after " +
                            std::to_string(c->timeout.count()) + " ms while " + to_text(c->at) +
                            c->progress() +
                            "; the server is slow, hangs or never ends its answer: retry, or "
                            "raise the timeout";
      abort(*c);
      finish(*c, make_failure(failure_class::retryable, std::move(message)));
    });
  }

  void stop_all() {
    stopping = true;
    idle.clear();
    for (auto* c : std::set<call*>(in_flight)) {
      std::string message = "HTTP client shut down while a request to " + c->where + " was " +
                            to_text(c->at);
      abort(*c);
      finish(*c, make_failure(failure_class::retryable, std::move(message)));
    }
  }

  // -- classifying what went wrong --------------------------------------------

  endure::failure transport_failure(const call& c, const error_code& ec) const {
    const std::string& where = c.where;
    std::string when = std::string(to_text(c.at)) + c.progress();
    if (stopping)
      return make_failure(failure_class::retryable, "HTTP client shut down while a request to " +
                                                      where + " was " + when);
    if (ec == http::error::body_limit)
      return make_failure(failure_class::fatal,
                          "the answer from " + where + " is larger than the limit of " +
                            std::to_string(options.max_response_bytes) +
                            " bytes: the server sent more, or never ended the body; raise "
                            "http_client_options::max_response_bytes (llm_config::"
                            "max_response_bytes) if such answers are expected");
    if (ec == http::error::header_limit)
      return make_failure(failure_class::fatal,
                          "the answer's header from " + where + " is larger than " +
                            std::to_string(header_limit / 1024) +
                            " KiB; this is not an HTTP server answering normally");
    if (ec == asio::error::connection_refused)
      return make_failure(failure_class::retryable, "connection to " + where +
                                                      " refused; is the server running?");
    if (is_cut(ec))
      return make_failure(failure_class::retryable,
                          "the connection to " + where + " was closed by the server or the "
                          "network while " + when + " (" + ec.message() + "); retry");
    if (is_not_http(ec))
      return make_failure(failure_class::fatal,
                          "the answer from " + where + " is not valid HTTP (" + ec.message() +
                            ") while " + when + "; check the URL's scheme (http or https) and "
                            "port: this does not look like an HTTP server");
    return make_failure(failure_class::retryable,
                        "network error with " + where + " while " + when + ": " + ec.message());
  }

  endure::failure tls_failure(const call& c, connection& conn, const error_code& ec) const {
    long verify = SSL_get_verify_result(conn.secure->native_handle());
    if (verify == X509_V_OK)
      return transport_failure(c, ec);
    return make_failure(failure_class::fatal,
                        "TLS certificate of " + c.where + " is not trusted: " +
                          X509_verify_cert_error_string(verify) +
                          "; to trust a private or self-signed server set tls_options.ca_file "
                          "or ca_pem (or verify_peer=false for demos only)");
  }

  /// What a coroutine returns once its call was finished: nobody reads it.
  static endure::failure abandoned() {
    return make_failure(failure_class::retryable, "request abandoned");
  }

  // -- one request -----------------------------------------------------------

  connection_ptr new_connection(const url_parts& u, const std::string& key) {
    auto conn = std::make_unique<connection>();
    conn->key = key;
    if (!u.tls) {
      conn->plain.emplace(io);
      return conn;
    }
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
    return conn;
  }

  asio::awaitable<result<connection_ptr>> connect(call& c, const url_parts& u,
                                                  const std::string& key) {
    auto conn = new_connection(u, key);
    in_use<connection> using_conn(c.conn, conn.get());
    error_code ec;
    tcp::resolver::results_type endpoints;
    {
      tcp::resolver resolver(io);
      in_use<tcp::resolver> looking_up(c.resolver, &resolver);
      c.at = phase::resolving;
      endpoints = co_await resolver.async_resolve(u.host, std::to_string(u.port), awaitable_ec(ec));
    }
    if (c.finished)
      co_return abandoned();
    if (ec)
      co_return transport_failure(c, ec);
    c.at = phase::connecting;
    co_await conn->lowest().async_connect(endpoints, awaitable_ec(ec));
    if (c.finished)
      co_return abandoned();
    if (ec)
      co_return transport_failure(c, ec);
    ++opened;
    if (u.tls) {
      c.at = phase::handshaking;
      co_await conn->secure->async_handshake(ssl::stream_base::client, awaitable_ec(ec));
      if (c.finished)
        co_return abandoned();
      if (ec)
        co_return tls_failure(c, *conn, ec);
    }
    co_return std::move(conn);
  }

  template <class Stream>
  asio::awaitable<void> write_read(Stream& stream, call& c, connection& conn,
                                   http::request<http::string_body>& msg, exchange_outcome& out) {
    parser_type parser;
    parser.body_limit(options.max_response_bytes);
    parser.header_limit(header_limit);
    in_use<const parser_type> reading(c.parser, &parser);
    c.at = phase::sending;
    co_await http::async_write(stream, msg, awaitable_ec(out.ec));
    if (out.ec || c.finished)
      co_return;
    // Header first: Beast 1.74 loses the body_limit error for a
    // Content-Length body that arrives in the same read as the header
    // (eager parsing resets it), so the declared length is checked here.
    c.at = phase::waiting;
    co_await http::async_read_header(stream, conn.buffer, parser, awaitable_ec(out.ec));
    out.got_bytes = parser.got_some();
    if (out.ec || c.finished)
      co_return;
    if (auto length = parser.content_length(); length && *length > options.max_response_bytes) {
      out.ec = http::error::body_limit;
      co_return;
    }
    c.at = phase::reading_body;
    co_await http::async_read(stream, conn.buffer, parser, awaitable_ec(out.ec));
    c.body_received = parser.get().body().size();
    if (out.ec || c.finished)
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

  asio::awaitable<exchange_outcome> exchange(call& c, connection& conn,
                                             http::request<http::string_body>& msg) {
    exchange_outcome out;
    in_use<connection> using_conn(c.conn, &conn);
    if (conn.secure)
      co_await write_read(*conn.secure, c, conn, msg, out);
    else
      co_await write_read(*conn.plain, c, conn, msg, out);
    co_return out;
  }

  asio::awaitable<result<http_response>> run(const call_ptr& cp, http_request req) {
    call& c = *cp;
    auto u = parse_url(req.url);
    if (!u)
      co_return make_failure(failure_class::fatal, u.error().message);
    c.where = u->host + ":" + std::to_string(u->port);
    if (u->tls && !tls_setup_error.empty())
      co_return make_failure(failure_class::fatal, tls_setup_error);
    auto verb = http::string_to_verb(req.method);
    if (verb == http::verb::unknown)
      co_return make_failure(failure_class::fatal, "unknown HTTP method '" + req.method + "'");
    c.timeout = req.timeout.count() > 0 ? req.timeout : options.default_timeout;
    arm_deadline(cp);

    http::request<http::string_body> msg{verb, u->target, 11};
    msg.set(http::field::host, host_header(*u));
    msg.set(http::field::user_agent, options.user_agent);
    for (const auto& h : req.headers)
      msg.set(h.name, h.value);
    msg.body() = std::move(req.body);
    msg.keep_alive(true);
    msg.prepare_payload();

    std::string key = (u->tls ? "https://" : "http://") + c.where;
    for (int attempt = 0;; ++attempt) {
      if (stopping || c.finished)
        co_return transport_failure(c, {});
      connection_ptr conn = attempt == 0 ? take_idle(key) : nullptr;
      bool reused = conn != nullptr;
      if (!conn) {
        auto fresh = co_await connect(c, *u, key);
        if (!fresh)
          co_return std::move(fresh).error();
        conn = std::move(*fresh);
      }
      auto out = co_await exchange(c, *conn, msg);
      if (c.finished)
        co_return abandoned();
      if (out.ec && reused && !out.got_bytes && !stopping)
        continue; // the server closed the idle connection: once more, fresh
      if (out.ec)
        co_return transport_failure(c, out.ec);
      out.response->reused_connection = reused;
      if (out.keep_alive)
        put_idle(std::move(conn));
      co_return std::move(*out.response);
    }
  }

  asio::awaitable<void> serve(call_ptr c, http_request req) {
    in_flight.insert(c.get());
    std::string url = req.url;
    std::optional<result<http_response>> r;
    try {
      r.emplace(co_await run(c, std::move(req)));
    } catch (...) {
      r.emplace(failure_from_exception(std::current_exception(), "HTTP request to " + url));
    }
    finish(*c, std::move(*r));
  }
};

http_client::http_client(http_client_options options)
  : impl_(std::make_unique<impl>(std::move(options))) {}

http_client::~http_client() {
  if (std::this_thread::get_id() == impl_->thread.get_id()) {
    log::error("endure::net::http_client destroyed from its own callback; that would "
               "deadlock, so the process stops");
    std::terminate();
  }
  asio::post(impl_->io, [i = impl_.get()] { i->stop_all(); });
  impl_->guard.reset();
  impl_->thread.join();
}

void http_client::send(http_request request, callback done) {
  auto c = std::make_shared<call>(impl_->io, std::move(done));
  std::string url = request.url;
  try {
    asio::co_spawn(impl_->io, impl_->serve(c, std::move(request)), asio::detached);
  } catch (...) { // nothing was started: answer here, on the caller's thread
    auto failure = failure_from_exception(std::current_exception(), "HTTP request to " + url);
    c->done(std::move(failure));
  }
}

std::size_t http_client::connections_opened() const noexcept { return impl_->opened.load(); }

const http_client_options& http_client::options() const noexcept { return impl_->options; }

} // namespace endure::net
