// The console's TLS settings (issue 16): an OpenSSL server context loaded
// from a PEM certificate (chain) file and a PEM private key file, TLS 1.2 at
// least. Loading checks each file on its own first, so a mistake is named
// precisely (missing, unreadable, not PEM, encrypted key, key of another
// certificate) instead of surfacing as a failed handshake later. OpenSSL's
// C API only: Asio stays in console_server.cpp. Any thread.
#pragma once

#include <memory>
#include <string>

#include "endure/persistence/error.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace endure::console {

struct tls_files {
  /// PEM file with the server's certificate, then any intermediate ones.
  std::string certificate;
  /// PEM file with the certificate's private key (not encrypted).
  std::string key;
};

struct ssl_ctx_free {
  void operator()(ssl_ctx_st* ctx) const noexcept;
};
using ssl_ctx_ptr = std::unique_ptr<ssl_ctx_st, ssl_ctx_free>;

/// A server context for `files`. Errors (invalid_argument; the message
/// names the file and says what to do): a path not given, a file that
/// cannot be read (and why), a certificate file with no PEM certificate, a
/// key file with no PEM private key or an encrypted one, a key that does
/// not belong to the certificate.
expected<ssl_ctx_ptr> load_tls_context(const tls_files& files);

} // namespace endure::console
