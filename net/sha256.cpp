#include "endure/net/sha256.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "endure/persistence/failure.hpp"

namespace endure::net {

std::string sha256_hex(std::string_view data) {
  // Fetched once: OpenSSL 3's one-shot SHA256() looks the algorithm up on
  // every call, which costs as much as hashing 200 bytes.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!sha256)
    throw fatal_error("OpenSSL has no SHA-256 (EVP_MD_fetch failed)");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (EVP_Digest(data.data(), data.size(), digest, nullptr, sha256, nullptr) != 1)
    throw retryable_error("OpenSSL EVP_Digest (SHA-256) failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (auto b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xf]);
  }
  return out;
}

} // namespace endure::net
