#include "endure/net/sha256.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "endure/persistence/failure.hpp"

namespace endure::net {

namespace {

const EVP_MD* sha256_md() {
  // Fetched once: OpenSSL 3's one-shot SHA256() looks the algorithm up on
  // every call, which costs as much as hashing 200 bytes.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!sha256)
    throw fatal_error("OpenSSL has no SHA-256 (EVP_MD_fetch failed)");
  return sha256;
}

std::string to_hex(const unsigned char* digest) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

} // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (EVP_Digest(data.data(), data.size(), digest, nullptr, sha256_md(), nullptr) != 1)
    throw retryable_error("OpenSSL EVP_Digest (SHA-256) failed");
  return to_hex(digest);
}

sha256_stream::sha256_stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), sha256_md(), nullptr) != 1) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    throw retryable_error("OpenSSL EVP_DigestInit_ex (SHA-256) failed");
  }
}

sha256_stream::~sha256_stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void sha256_stream::add(std::string_view part) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), part.data(), part.size()) != 1)
    throw retryable_error("OpenSSL EVP_DigestUpdate (SHA-256) failed");
}

std::string sha256_stream::hex() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, nullptr) != 1)
    throw retryable_error("OpenSSL EVP_DigestFinal_ex (SHA-256) failed");
  return to_hex(digest);
}

} // namespace endure::net
