// The console API's request and answer forms (detail/api_request.hpp).
#include "endure/net/console/detail/api_request.hpp"

#include <charconv>

#include "endure/net/console/console_server.hpp"

namespace endure::console::detail {

namespace {

constexpr std::size_t default_limit = 100;
constexpr std::size_t max_limit = 1000;

/// The HTTP status for an error of the runtime or the journal.
int status_of(errc code) {
  switch (code) {
    case errc::invalid_argument: return 400;
    case errc::permission_denied: return 403;
    case errc::not_found: return 404;
    case errc::invalid_state: return 409;
    case errc::shut_down: return 503;
    default: return 500;
  }
}

std::string code_name(int status) {
  switch (status) {
    case 400: return "invalid_argument";
    case 403: return "permission_denied";
    case 404: return "not_found";
    case 409: return "invalid_state";
    case 503: return "shut_down";
    default: return "internal_error";
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

http_response json_response(int status, const json& body) {
  http_response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http_response from_error(const error& e) {
  auto status = status_of(e.code);
  return error_response(status, code_name(status), e.message);
}

/// %XX decoded (and '+' as a space in a query); a bad escape stays as it is.
std::string decoded(std::string_view s, bool query) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += (query && s[i] == '+') ? ' ' : s[i];
    }
  }
  return out;
}

target split_target(std::string_view t) {
  target out;
  auto q = t.find('?');
  out.path = std::string(t.substr(0, q));
  if (q == std::string_view::npos)
    return out;
  auto rest = t.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    auto name = decoded(pair.substr(0, eq), true);
    out.query[name] = eq == std::string_view::npos ? "" : decoded(pair.substr(eq + 1), true);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return out;
}

/// ?limit=: default 100, 1 to 1000.
expected<std::size_t> limit_of(const target& t) {
  auto it = t.query.find("limit");
  if (it == t.query.end())
    return default_limit;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  if (ec != std::errc{} || end != it->second.data() + it->second.size() || n < 1 || n > max_limit)
    return make_error(errc::invalid_argument, "limit must be a whole number from 1 to " +
                                                std::to_string(max_limit) + ", not '" +
                                                it->second + "'");
  return n;
}

bool reads(const http_request& req) {
  return req.method == "GET" || req.method == "HEAD";
}

/// The body as a JSON object; nullopt if it is not one (or nests deeper
/// than max_body_depth).
std::optional<json> object_body(const http_request& req) {
  bool too_deep = false;
  auto limit = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep |= depth > max_body_depth;
    return !too_deep;
  };
  auto body = json::parse(req.body, limit, false);
  if (too_deep || body.is_discarded() || !body.is_object())
    return std::nullopt;
  return body;
}

http_response not_an_object(std::string_view example) {
  return error_response(400, "malformed_json",
                        "the body must be a JSON object such as " + std::string(example)
                          + ", nested at most " + std::to_string(max_body_depth) + " deep");
}

/// Field `name` of `body` as a string: nullopt if absent (or null), an
/// error if it is there but not a string.
expected<std::optional<std::string>> string_field(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null())
    return std::optional<std::string>{};
  if (!body[name].is_string())
    return make_error(errc::invalid_argument,
                      std::string("\"") + name + "\" must be a string, not " + body[name].dump());
  return std::optional<std::string>{body[name].get<std::string>()};
}

/// 503 for a runtime call that timed out (runtime.hpp's answer_limit): it
/// may still take effect, so say where the truth will be.
http_response unknown_outcome(const std::string& what, std::chrono::milliseconds limit,
                              const std::string& where) {
  return error_response(503, "outcome_unknown",
                        "the runtime did not answer within " + std::to_string(limit.count()) +
                          " ms, so whether " + what + " took effect is unknown; " + where +
                          " shows it, then retry if needed");
}

} // namespace endure::console::detail
