// A self-signed certificate and its key for the console's TLS tests, made
// at test time with OpenSSL's C API (an EC P-256 key, CN and SAN 127.0.0.1,
// valid for a day) and written as PEM files into a directory the test
// owns. No fixed key material lives in the repository. Test thread only.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace endure::test {

struct tls_material {
  std::string certificate;  ///< PEM certificate file
  std::string key;          ///< PEM private key file
};

namespace detail {

struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct x509_free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};

inline void require(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string("tls_material: ") + what);
}

/// Writes with `write(FILE*)`; throws when the file cannot be written.
template <class Write>
void write_pem(const std::string& path, Write write) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  require(f != nullptr, "cannot create a PEM file");
  bool ok = write(f) == 1;
  std::fclose(f);
  require(ok, "cannot write a PEM file");
}

} // namespace detail

/// Writes DIR/NAME.crt and DIR/NAME.key: a fresh key and a certificate
/// for it.
inline tls_material make_tls_material(const std::string& dir, const std::string& name) {
  using namespace detail;
  std::unique_ptr<EVP_PKEY, pkey_free> key{EVP_EC_gen("P-256")};
  require(key != nullptr, "cannot make a key");
  std::unique_ptr<X509, x509_free> cert{X509_new()};
  require(cert != nullptr, "cannot make a certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);  // self-signed
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  require(san != nullptr, "cannot make the subjectAltName");
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "cannot sign the certificate");
  tls_material out{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  write_pem(out.certificate, [&](std::FILE* f) { return PEM_write_X509(f, cert.get()); });
  write_pem(out.key, [&](std::FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return out;
}

} // namespace endure::test
