// parse_listen_address (listen_address.hpp), with inet_pton: no Asio here.
#include "endure/net/console/listen_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace endure::console {

namespace {

error refused(std::string_view text, std::string why) {
  return make_error(errc::invalid_argument,
                    "--http " + std::string(text) + ": " + why +
                      "; give ADDRESS:PORT such as 127.0.0.1:8080 or [::1]:8080 (port 0 lets "
                      "the system pick one)");
}

bool is_loopback(const std::string& host, bool& is_ip) {
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    is_ip = true;
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    is_ip = true;
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  is_ip = false;
  return false;
}

} // namespace

expected<listen_address> parse_listen_address(std::string_view text, bool tls) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size())
    return refused(text, "no port");
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    return refused(text, "an IPv6 address goes in brackets");
  auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return refused(text, "the port must be a number from 0 to 65535");
  listen_address out{std::string(host), static_cast<std::uint16_t>(port)};
  bool is_ip = false;
  bool loopback = is_loopback(out.host, is_ip);
  if (!is_ip)
    return refused(text, "'" + out.host + "' is not an IP address");
  if (!loopback && !tls)
    return make_error(errc::invalid_argument,
                      "--http " + std::string(text) + ": " + out.host +
                        " is not a loopback address, and without TLS tokens would cross the "
                        "network in clear text; give --tls-cert FILE and --tls-key FILE (PEM) "
                        "to serve it over TLS, or listen on 127.0.0.1 (or ::1)");
  return out;
}

} // namespace endure::console
