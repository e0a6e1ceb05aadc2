// The page's files (static_files.hpp) from the table embed_web.cmake
// generates at build time.
#include "endure/net/console/static_files.hpp"

#include "endure/net/console/console_server.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

namespace endure::console {

namespace detail {
extern const std::pair<std::string_view, std::string_view> embedded_web_files[];
extern const std::size_t embedded_web_file_count;
} // namespace detail

namespace {

std::string content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html"))
    return "text/html; charset=utf-8";
  if (ends(".js"))
    return "text/javascript; charset=utf-8";
  if (ends(".css"))
    return "text/css; charset=utf-8";
  return "application/octet-stream";
}

/// The page's rules for the browser: scripts, styles, images and fetches
/// from this server only, and no inline script (an injected <script> or
/// onclick= does nothing); never inside a frame (clickjacking a decision);
/// the declared content type only.
void add_security_headers(http_response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; base-uri 'none'; form-action 'none'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

} // namespace

std::optional<http_response> static_file(const std::string& method, const std::string& path) {
  std::string_view name = path == "/" ? std::string_view("/index.html") : path;
  for (std::size_t i = 0; i < detail::embedded_web_file_count; ++i) {
    auto& [file, bytes] = detail::embedded_web_files[i];
    if (file != name)
      continue;
    http_response r;
    if (method != "GET" && method != "HEAD") {  // HEAD: the server drops the body
      r = error_response(405, "method_not_allowed", method + " " + path + ": the page's files "
                                                    "take GET (or HEAD) only");
      r.headers.emplace_back("Allow", "GET, HEAD");
    } else {
      r.content_type = content_type_of(name);
      r.body = std::string(bytes);
    }
    add_security_headers(r);
    return r;
  }
  return std::nullopt;
}

} // namespace endure::console
