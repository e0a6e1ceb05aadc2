// SHA-256 (OpenSSL) as lowercase hex: the digest endure uses where a hash
// binds something a person or another system relies on (a tool call's
// arguments to the approval given for them, a policy to its decisions, the
// seed workload's values). Any thread.
#pragma once

#include <string>
#include <string_view>

namespace endure::net {

/// Lowercase hex SHA-256 of `data` (64 characters). Throws fatal_error if
/// OpenSSL has no SHA-256, retryable_error if digesting fails.
std::string sha256_hex(std::string_view data);

/// SHA-256 of data that comes in parts (a child's output as it is read):
/// add() each part, then hex() once. Same errors as sha256_hex.
class sha256_stream {
public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  void add(std::string_view part);
  /// Lowercase hex of everything added (64 characters); call once.
  std::string hex();

private:
  void* ctx_;  ///< EVP_MD_CTX (OpenSSL stays out of this header)
};

} // namespace endure::net
