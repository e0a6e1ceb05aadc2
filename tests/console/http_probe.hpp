// A tiny blocking HTTP/1.1 client over a POSIX socket, for the console
// tests: it sends exactly the bytes a test writes (malformed requests,
// oversized bodies, nothing at all) and reads one answer with a deadline.
// Test thread only; every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace endure::test {

struct http_reply {
  int status = 0;  ///< 0: the connection closed without an answer
  std::map<std::string, std::string> headers;  ///< names lowercased
  std::string body;
};

class http_probe {
public:
  /// Connects to `host` (an IPv4 address) at `port`; `receive_buffer` > 0
  /// shrinks the socket's receive buffer first (a slow client's: the
  /// server's writes block soon).
  explicit http_probe(std::uint16_t port, const std::string& host = "127.0.0.1",
                      int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ >= 0 && receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (fd_ < 0 || ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1
        || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("http_probe: cannot connect to " + host + ":" +
                               std::to_string(port));
  }
  ~http_probe() { ::close(fd_); }
  http_probe(const http_probe&) = delete;
  http_probe& operator=(const http_probe&) = delete;

  /// True when every byte was sent (false: the server closed or reset the
  /// connection first; the reply, or its absence, tells more).
  bool send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// One answer, or status 0 if the connection closed (or `limit` passed).
  http_reply read(std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    auto r = head_until(deadline);
    if (r.status == 0)
      return r;
    std::size_t length = r.headers.count("content-length")
                           ? std::stoul(r.headers["content-length"]) : 0;
    while (buffer_.size() < length)
      if (!fill(deadline))
        return http_reply{};
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  /// Only the status line and headers of one answer (the answer to HEAD);
  /// whatever follows stays for the next read. Status 0 as for read().
  http_reply read_head(std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    return head_until(std::chrono::steady_clock::now() + limit);
  }

  /// The socket (for a caller that polls many probes at once).
  int fd() const noexcept { return fd_; }

  /// Waits (until `deadline`) for more bytes; false once the connection
  /// closed or the deadline passed. take() hands them out.
  bool receive(std::chrono::steady_clock::time_point deadline) { return fill(deadline); }
  /// What arrived and was not read as an answer yet, handed over.
  std::string take() { return std::exchange(buffer_, {}); }
  /// The server closed the connection (as seen by the last receive).
  bool saw_close() const noexcept { return closed_; }

  /// True once the server closed the connection (waits at most `limit`).
  bool closed(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (fill(deadline)) {}
    return closed_;
  }

private:
  http_reply head_until(std::chrono::steady_clock::time_point deadline) {
    http_reply r;
    std::size_t end = std::string::npos;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline))
        return r;
    parse_head(buffer_.substr(0, end), r);
    buffer_.erase(0, end + 4);
    return r;
  }

  bool fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
      return false;
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  static void parse_head(const std::string& head, http_reply& r) {
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    r.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
    std::size_t pos = line_end;
    while (pos != std::string::npos && pos + 2 < head.size()) {
      auto next = head.find("\r\n", pos + 2);
      auto line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
      pos = next;
    }
  }

  int fd_ = -1;
  std::string buffer_;
  bool closed_ = false;
};

/// The bytes of a request: `token` empty sends no Authorization header.
inline std::string http_text(const std::string& method, const std::string& target,
                             const std::string& token = "", const std::string& body = "") {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty())
    out += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST")
    out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
  return out + "\r\n" + body;
}

} // namespace endure::test
