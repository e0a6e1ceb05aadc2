// URL splitting for the HTTP client. Deliberately small: absolute http and
// https URLs only, no userinfo, no percent-decoding (targets go out as given).
#include "endure/net/url.hpp"

#include <charconv>

namespace endure::net {

namespace {

error bad_url(std::string_view url, std::string_view why) {
  return make_error(errc::invalid_argument,
                    "invalid URL '" + std::string(url) + "': " + std::string(why) +
                      " (expected http[s]://host[:port]/path)");
}

} // namespace

expected<url_parts> parse_url(std::string_view url) {
  url_parts out;
  std::string_view rest = url;
  if (rest.substr(0, 7) == "http://") {
    rest.remove_prefix(7);
  } else if (rest.substr(0, 8) == "https://") {
    out.tls = true;
    rest.remove_prefix(8);
  } else {
    return bad_url(url, "scheme must be http or https");
  }
  auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?')
    out.target.insert(out.target.begin(), '/');
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad_url(url, "unclosed '[' in IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':')
      return bad_url(url, "junk after IPv6 host");
    port_text = after.empty() ? after : after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos)
      port_text = authority.substr(colon + 1);
  }
  if (out.host.empty())
    return bad_url(url, "missing host");
  if (authority.find('@') != std::string_view::npos)
    return bad_url(url, "user info in URLs is not supported");
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      return bad_url(url, "port must be a number in 1..65535");
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

} // namespace endure::net
