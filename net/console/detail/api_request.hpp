// What the console's API reads from a request and how it answers: the
// target split into path and query, the body as a JSON object, the paging
// limit, and the JSON forms of answers and errors. Shared by the API's
// routes (console_api.cpp, run_routes.cpp). Any thread; no state.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "endure/net/console/http_exchange.hpp"
#include "endure/persistence/error.hpp"

namespace endure::console::detail {

using json = nlohmann::json;

/// `body` as a JSON answer with `status` (invalid UTF-8 replaced).
http_response json_response(int status, const json& body);

/// An error of the runtime or the journal as its HTTP answer (400, 403,
/// 404, 409, 503, else 500).
http_response from_error(const error& e);

/// %XX decoded (and '+' as a space in a query); a bad escape stays as it is.
std::string decoded(std::string_view s, bool query);

struct target {
  std::string path;  ///< still percent-encoded: a request id may hold "/" as %2F
  std::map<std::string, std::string> query;
};

target split_target(std::string_view t);

/// ?limit=: default 100, 1 to 1000.
expected<std::size_t> limit_of(const target& t);

/// GET and HEAD read alike (the server drops a HEAD answer's body).
bool reads(const http_request& req);

/// How deep a body's JSON may nest. The parser itself is iterative, but
/// what handles the value afterwards (dump, msgpack, the schema check)
/// recurses: a 64 KiB body of brackets would otherwise run a handler
/// thread out of stack.
inline constexpr int max_body_depth = 64;

/// The body as a JSON object; nullopt if it is not one (or nests deeper
/// than max_body_depth).
std::optional<json> object_body(const http_request& req);

/// 400 malformed_json, showing `example`.
http_response not_an_object(std::string_view example);

/// Field `name` of `body` as a string: nullopt if absent (or null), an
/// error if it is there but not a string.
expected<std::optional<std::string>> string_field(const json& body, const char* name);

/// 503 for a runtime call that timed out (runtime.hpp's answer_limit): it
/// may still take effect, so say where (`where`) the truth will be.
http_response unknown_outcome(const std::string& what, std::chrono::milliseconds limit,
                              const std::string& where);

} // namespace endure::console::detail
