// The console's web page (net/console/web/: index.html, app.css and the
// JavaScript modules app.js, dom.js, api.js, views.js, decide.js),
// built into the binary by embed_web.cmake and served by console_api next
// to the API: GET / is index.html. The files hold no data (everything
// comes from the API with the user's token), so they need no token. Each
// answer carries the headers that keep the page from being framed,
// sniffed or made to run a script from anywhere but this server.
// Any thread; no state.
#pragma once

#include <optional>

#include "endure/net/console/http_exchange.hpp"

namespace endure::console {

/// The page's file for `path` (already split from its query): "/" and
/// "/index.html" give index.html, "/NAME" the file NAME of the page.
/// nullopt for any other path (the API answers it). Files take GET and
/// HEAD (the server drops HEAD's body); another method on a file's path
/// gets 405 with `Allow: GET, HEAD`.
std::optional<http_response> static_file(const std::string& method, const std::string& path);

} // namespace endure::console
