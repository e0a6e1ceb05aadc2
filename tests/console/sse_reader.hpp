// A streaming reader of GET /api/v1/events for the console tests: an
// http_probe that sends the request, reads the answer's head,
// then hands out Server-Sent Events one at a time as they arrive (comments
// and the retry field are recorded, not returned). Test thread only;
// every wait is bounded. Also a client that asks for the stream and never
// reads a byte (the slow client).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "console/http_probe.hpp"

namespace endure::test {

struct sse_event {
  std::uint64_t id = 0;
  std::string event;
  nlohmann::json data;  ///< discarded when the data line is not JSON
};

class sse_reader {
public:
  /// Connects and sends GET `target` (the events, every step event unless
  /// told otherwise) with `token` (none if empty).
  sse_reader(std::uint16_t port, const std::string& token,
             const std::string& target = "/api/v1/events?steps=all")
    : probe_(port) {
    probe_.send(http_text("GET", target, token));
  }
  sse_reader(const sse_reader&) = delete;
  sse_reader& operator=(const sse_reader&) = delete;

  /// Sends more bytes after the request, as a confused client might.
  void send(const std::string& bytes) { probe_.send(bytes); }
  /// Closes the client's sending side only (the socket stays open to read).
  void half_close() { ::shutdown(probe_.fd(), SHUT_WR); }

  /// The answer's status line and headers (body left for next()); status
  /// 0 if none came within `limit`.
  http_reply head(std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    auto r = probe_.read_head(limit);
    keep(probe_.take());
    if (r.status == 0 || !r.headers.count("content-length"))
      return r;
    // A complete answer (an error): its body.
    auto length = std::stoul(r.headers["content-length"]);
    while (buffer_.size() < length)
      if (!fill(deadline))
        break;
    r.body = buffer_.substr(0, length);
    return r;
  }

  /// The next event; nullopt once `limit` passed or the connection closed.
  std::optional<sse_event> next(std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      std::size_t end;
      while ((end = buffer_.find("\n\n")) == std::string::npos)
        if (!fill(deadline))
          return std::nullopt;
      auto block = buffer_.substr(0, end + 1);
      buffer_.erase(0, end + 2);
      if (auto e = parse(block))
        return e;
    }
  }

  /// The next event satisfying `pred`, skipping others (within `limit`).
  template <class Pred>
  std::optional<sse_event> next_where(Pred pred,
                                      std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      auto e = next(left);
      if (!e || pred(*e))
        return e;
    }
  }

  /// True once the server closed the connection (waits at most `limit`),
  /// reading (and keeping) whatever came before.
  bool closed(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (fill(deadline)) {}
    return closed_;
  }

  /// Reads what has arrived without waiting.
  void drain() {
    while (fill(std::chrono::steady_clock::now() + std::chrono::milliseconds{1})) {}
  }

  /// Comment lines seen (": keep-alive"), and the last retry field.
  int comments() const { return comments_; }
  std::string retry() const { return retry_; }
  /// Bytes of the body read so far.
  std::size_t body_bytes() const { return body_bytes_; }

private:
  std::optional<sse_event> parse(const std::string& block) {
    sse_event e;
    bool any = false;
    for (std::size_t pos = 0; pos < block.size();) {
      auto nl = block.find('\n', pos);
      auto line = block.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.rfind(":", 0) == 0) {
        ++comments_;
      } else if (line.rfind("retry: ", 0) == 0) {
        retry_ = line.substr(7);
      } else if (line.rfind("id: ", 0) == 0) {
        e.id = std::stoull(line.substr(4));
      } else if (line.rfind("event: ", 0) == 0) {
        e.event = line.substr(7);
        any = true;
      } else if (line.rfind("data: ", 0) == 0) {
        e.data = nlohmann::json::parse(line.substr(6), nullptr, false);
      }
    }
    return any ? std::optional<sse_event>(std::move(e)) : std::nullopt;
  }

  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (!probe_.receive(deadline)) {
      closed_ = probe_.saw_close();
      return false;
    }
    keep(probe_.take());
    return true;
  }

  void keep(std::string bytes) {
    body_bytes_ += bytes.size();
    buffer_ += bytes;
  }

  http_probe probe_;
  std::string buffer_;
  bool closed_ = false;
  int comments_ = 0;
  std::string retry_;
  std::size_t body_bytes_ = 0;
};

/// Asks for the event stream and never reads: the client that falls
/// behind. hung_up() tells when the server gave up on it, without reading.
class silent_client {
public:
  silent_client(std::uint16_t port, const std::string& token)
    : probe_(port, "127.0.0.1", 1024) {
    probe_.send(http_text("GET", "/api/v1/events?steps=all", token));
  }
  silent_client(const silent_client&) = delete;
  silent_client& operator=(const silent_client&) = delete;

  /// True once the server reset or closed the connection (waits at most
  /// `limit`); reads nothing.
  bool hung_up(std::chrono::milliseconds limit) {
    pollfd p{probe_.fd(), POLLRDHUP, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) > 0
           && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

private:
  http_probe probe_;
};

} // namespace endure::test
