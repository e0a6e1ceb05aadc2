// Where the console listens, from `endure serve --http ADDR:PORT`: an IPv4
// address ("127.0.0.1:8080") or a bracketed IPv6 one ("[::1]:8080"), port 0
// for one the OS picks. An address that is not loopback is accepted only
// when the console will speak TLS (--tls-cert and --tls-key): tokens would
// otherwise cross the network in clear text. Plain values; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"

namespace endure::console {

struct listen_address {
  std::string host;  ///< "127.0.0.1", "::1"
  std::uint16_t port = 0;
};

/// Parses `text`; `tls`: the console will serve it over TLS. Errors
/// (invalid_argument, the message says what to give instead): no port, a
/// port that is not 0 to 65535, a host that is not an IP address, and,
/// without `tls`, a host that is not loopback (127.0.0.0/8 or ::1).
expected<listen_address> parse_listen_address(std::string_view text, bool tls = false);

} // namespace endure::console
