// A tiny blocking HTTPS/1.1 client for the console's TLS tests, like
// http_probe.hpp over OpenSSL's SSL_* calls: it trusts exactly the given
// certificate (the test's self-signed one), sends the bytes a test writes
// and reads one answer. Every wait is bounded by socket timeouts
// (SO_RCVTIMEO/SO_SNDTIMEO), so a server that never answers fails the
// read, not the test run. Test thread only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "console/http_probe.hpp"

namespace endure::test {

class tls_probe {
public:
  /// Connects (TCP only; handshake() does TLS). `limit` bounds every wait.
  tls_probe(std::uint16_t port, const std::string& trusted_certificate,
            std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_ || SSL_CTX_load_verify_locations(ctx_, trusted_certificate.c_str(), nullptr) != 1)
      throw std::runtime_error("tls_probe: cannot load " + trusted_certificate);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("tls_probe: cannot connect to 127.0.0.1:" + std::to_string(port));
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  }
  ~tls_probe() {
    if (ssl_)
      SSL_free(ssl_);
    if (fd_ >= 0)
      ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  tls_probe(const tls_probe&) = delete;
  tls_probe& operator=(const tls_probe&) = delete;

  /// True when the TLS handshake succeeded (certificate verified).
  bool handshake() {
    ERR_clear_error();
    return SSL_connect(ssl_) == 1;
  }
  /// Offers TLS `version` at most (e.g. TLS1_1_VERSION), as an old client
  /// would; call before handshake().
  void offer_at_most(int version) {
    SSL_set_security_level(ssl_, 0);  // OpenSSL 3 allows TLS 1.1 only at level 0
    SSL_set_min_proto_version(ssl_, 0);
    SSL_set_max_proto_version(ssl_, version);
  }
  /// The negotiated protocol ("TLSv1.3"), after handshake().
  std::string protocol() const { return SSL_get_version(ssl_); }

  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      int n = SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent));
      if (n <= 0)
        return;  // the server closed: the reply (or its absence) tells
      sent += static_cast<std::size_t>(n);
    }
  }

  /// One answer (status and body), or status 0 if the connection ended
  /// (or a wait passed its limit) first.
  http_reply read() {
    http_reply r;
    std::size_t end = std::string::npos;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return r;
    auto head = buffer_.substr(0, end);
    std::size_t length = 0;
    for (std::size_t pos = head.find("\r\n"); pos != std::string::npos;
         pos = head.find("\r\n", pos + 2)) {
      auto line = head.substr(pos + 2, head.find("\r\n", pos + 2) - pos - 2);
      for (std::size_t i = 0; i < line.size() && line[i] != ':'; ++i)
        line[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
      if (line.rfind("content-length:", 0) == 0)
        length = std::stoul(line.substr(15));
    }
    while (buffer_.size() < end + 4 + length)
      if (!fill())
        return r;
    r.status = std::stoi(head.substr(head.find(' ') + 1, 3));
    r.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return r;
  }

  /// Reads until what came holds `text` (true), or the connection ends or
  /// a wait passes its limit (false). For a stream's bytes.
  bool read_until(const std::string& text) {
    while (buffer_.find(text) == std::string::npos)
      if (!fill())
        return false;
    return true;
  }

  /// Sends a TLS 1.3 KeyUpdate record, as a long-lived client may.
  bool update_keys() {
    return SSL_key_update(ssl_, SSL_KEY_UPDATE_NOT_REQUESTED) == 1 && SSL_do_handshake(ssl_) == 1;
  }

private:
  bool fill() {
    char buf[4096];
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0)
      return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buffer_;
};

} // namespace endure::test
