// load_tls_context (tls_context.hpp) with OpenSSL's C API. Each file is
// opened and parsed here first, so the error says which file is wrong and
// how; OpenSSL's own reason (its error queue) is appended where it helps.
#include "endure/net/console/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "endure/net/detail/openssl_reason.hpp"

namespace endure::console {

void ssl_ctx_free::operator()(ssl_ctx_st* ctx) const noexcept {
  SSL_CTX_free(ctx);
}

namespace {

using net::detail::openssl_reason;


error refused(const std::string& what, const std::string& path, const std::string& why) {
  return make_error(errc::invalid_argument, "TLS " + what + " file '" + path + "': " + why);
}

struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

/// The file opened for reading, or why not (errno's text).
expected<bio_ptr> open_file(const std::string& what, const std::string& path) {
  if (path.empty())
    return make_error(errc::invalid_argument,
                      "no TLS " + what + " file given; TLS needs both a certificate and a key "
                      "(PEM files)");
  if (std::FILE* f = std::fopen(path.c_str(), "rb"))
    std::fclose(f);
  else
    return refused(what, path, std::string(std::strerror(errno)) + "; check the path and that "
                               "this user may read it");
  bio_ptr bio{BIO_new_file(path.c_str(), "rb")};
  if (!bio)
    return refused(what, path, "cannot be opened" + openssl_reason());
  return bio;
}

/// OpenSSL asks for a passphrase on the terminal by default: a server must
/// not, so an encrypted key just fails to load.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

struct key_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct x509_free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};

} // namespace

expected<ssl_ctx_ptr> load_tls_context(const tls_files& files) {
  auto cert_bio = open_file("certificate", files.certificate);
  if (!cert_bio)
    return std::move(cert_bio).error();
  auto key_bio = open_file("key", files.key);
  if (!key_bio)
    return std::move(key_bio).error();
  ERR_clear_error();
  std::unique_ptr<X509, x509_free> cert{PEM_read_bio_X509(cert_bio->get(), nullptr, nullptr,
                                                          nullptr)};
  if (!cert)
    return refused("certificate", files.certificate,
                   "holds no PEM certificate (a '-----BEGIN CERTIFICATE-----' block)" +
                     openssl_reason() + "; give the server's certificate in PEM form");
  std::unique_ptr<EVP_PKEY, key_free> key{PEM_read_bio_PrivateKey(key_bio->get(), nullptr,
                                                                  &no_passphrase, nullptr)};
  if (!key)
    return refused("key", files.key,
                   "holds no PEM private key, or an encrypted one" + openssl_reason() +
                     "; give the certificate's private key in PEM form, without a passphrase "
                     "(`openssl pkey -in KEY -out PLAIN.pem` removes one)");
  ssl_ctx_ptr ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx)
    return make_error(errc::io_error, "cannot create a TLS context" + openssl_reason());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // The chain file form also sends intermediate certificates to clients.
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.certificate.c_str()) != 1)
    return refused("certificate", files.certificate,
                   "cannot be used" + openssl_reason() + "; give a PEM certificate chain");
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1)
    return refused("key", files.key,
                   "does not match the certificate in '" + files.certificate + "'" +
                     openssl_reason() + "; give the key the certificate was made for");
  return ctx;
}

} // namespace endure::console
