// A local OpenAI-compatible server for tests and demos: POST
// /v1/chat/completions and /v1/embeddings (GET /v1/models too), over HTTP
// or HTTPS, on 127.0.0.1.
//
// Answers come from, in order: the script (a FIFO of exact responses with an
// optional delay, for "the next call gets a 429 with Retry-After: 3", or a
// misbehaviour: raw bytes, a reset, an endless body, no answer), then the
// fixed answer if one is set, then sim_engine with the configured seed and
// fault rates (random mode; the attempt number is how often the same body
// was seen before, so a retried call draws a new fault). Requests and
// connections are counted.
//
// Threads: one io thread owned by the object. All public members are safe
// from any thread. The destructor stops the server: the listener and every
// open connection are closed (a delayed or hanging answer is abandoned, so
// the client sees the connection drop) and the thread is joined.
#pragma once

#include "endure/net/http_types.hpp"
#include "endure/net/sim_options.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace endure::net {

/// One exact answer, served to the next request whatever its path. Besides
/// well-formed answers it can misbehave as broken servers and networks do:
/// raw bytes, a reset connection, an endless or dripping body, no answer.
struct scripted_response {
  int status = 200;
  http_headers headers;
  std::string body;
  /// Wait this long before answering. Default: 0.
  std::chrono::milliseconds delay{0};
  /// Close the connection after answering (no keep-alive). Default: false.
  bool close_connection = false;
  /// Advertise keep-alive, then close the connection after answering, as a
  /// server whose idle timeout passed does. Default: false.
  bool close_silently = false;
  /// Bytes written as they are instead of a response made of status,
  /// headers and body (e.g. a header declaring more body than follows, or
  /// a status line that is not HTTP); the connection is closed after them.
  /// Default: empty (a normal response).
  std::string raw{};
  /// End the connection with a TCP reset (RST) right after writing, as a
  /// crashed server or a middlebox does. Default: false.
  bool reset = false;
  /// Send the status and headers, then `body` as one chunk (chunked
  /// encoding) `chunks` times, waiting `chunk_interval` before each: a
  /// dripping body, or with chunks = 0 one that never ends (until the
  /// client hangs up or the server stops). Default: false.
  bool stream = false;
  std::size_t chunks = 0;
  std::chrono::milliseconds chunk_interval{0};
  /// Read the request and never answer; the connection stays open until
  /// the client gives up or the server stops. Default: false.
  bool hang = false;
};

struct fake_server_options {
  /// Listen address. Default: "127.0.0.1".
  std::string host = "127.0.0.1";
  /// 0 lets the OS pick a free port (see port()). Default: 0.
  std::uint16_t port = 0;
  /// PEM certificate (chain) and private key: both set means HTTPS.
  /// Default: empty (plain HTTP).
  std::string tls_certificate_pem;
  std::string tls_private_key_pem;
  /// Answers and random faults when the script is empty. Default: no faults.
  sim_options sim;
  /// How long a simulated timeout keeps the request unanswered before
  /// closing the connection. Default: 10 minutes (the client gives up first).
  std::chrono::milliseconds hang{600'000};
  /// When set, every request the script does not answer gets this answer
  /// instead of the sim's (e.g. a server that always misbehaves the same
  /// way). Default: none.
  std::optional<scripted_response> fixed_answer;
};

/// A request as the server received it.
struct received_request {
  std::string method;
  std::string target;
  http_headers headers;
  std::string body;
};

class fake_openai_server {
public:
  /// Binds and starts serving. Throws std::runtime_error saying what failed
  /// (address in use, bad PEM).
  explicit fake_openai_server(fake_server_options options = {});
  ~fake_openai_server();
  fake_openai_server(const fake_openai_server&) = delete;
  fake_openai_server& operator=(const fake_openai_server&) = delete;

  /// The bound port (the OS's pick when options.port was 0).
  std::uint16_t port() const noexcept;
  /// "http://127.0.0.1:<port>/v1" (https when TLS is on): an llm_config
  /// base_url.
  std::string base_url() const;

  /// Queues an exact answer for the next request not yet answered.
  void push(scripted_response response);
  /// Scripted answers not served yet.
  std::size_t scripted_left() const;

  /// Complete requests received so far.
  std::size_t requests() const noexcept;
  /// Blocks until at least `n` requests have arrived or `limit` passes;
  /// true if they arrived. Lets a test wait for "the request is in flight".
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds limit) const;
  /// TCP connections accepted so far.
  std::size_t connections() const noexcept;
  /// Copies of every request received, in order.
  std::vector<received_request> received() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace endure::net
