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

} // namespace endure::net
