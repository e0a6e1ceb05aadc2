// Splitting an absolute http(s) URL into the parts a connection needs.
// Pure functions, any thread.
#pragma once

#include "endure/persistence/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace endure::net {

struct url_parts {
  bool tls = false;       ///< https
  std::string host;       ///< without brackets for IPv6
  std::uint16_t port = 0; ///< explicit or the scheme's default
  std::string target;     ///< path and query, at least "/"
};

/// Parses "http[s]://host[:port][/path][?query]". Fails with
/// errc::invalid_argument naming the URL and what is wrong with it.
expected<url_parts> parse_url(std::string_view url);

} // namespace endure::net
