// openssl_reason.hpp: drains ERR_get_error, keeping the last entry.
#include "endure/net/detail/openssl_reason.hpp"

#include <openssl/err.h>

namespace endure::net::detail {

std::string openssl_reason() {
  std::string out;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    out = text;  // the last one is the most specific
  }
  return out.empty() ? out : " (" + out + ")";
}

} // namespace endure::net::detail
