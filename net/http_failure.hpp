// Turning what a server answered into an endure::failure: the error
// taxonomy shared by the OpenAI-compatible client, the sim model and any
// future HTTP tool. Pure functions, any thread, no JSON library in the header.
//
//   429                         -> rate_limited, retry_after from Retry-After
//                                  (seconds or HTTP-date) or retry-after-ms
//   408, 409, 5xx               -> retryable
//   400, 401, 403, 404, 422 ... -> fatal
//   an answer saying the prompt exceeds the model's context (OpenAI code
//   context_length_exceeded, llama.cpp exceed_context_size_error, vLLM
//   "maximum context length")   -> context_length_exceeded
#pragma once

#include "endure/net/http_types.hpp"
#include "endure/persistence/failure.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace endure::net {

/// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT", also RFC 850 and asctime forms),
/// relative to `now`. A date in the past gives zero. Garbage gives nullopt.
std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now =
                                            std::chrono::system_clock::now());

/// Formats `t` as an IMF-fixdate, as servers send in Retry-After.
std::string format_http_date(std::chrono::system_clock::time_point t);

/// The first `max_chars` of a body, printable, for error messages:
/// "'<html>...' (1234 bytes)".
std::string quote_body(std::string_view body, std::size_t max_chars = 200);

/// True when an error body says the prompt did not fit the model's context.
bool is_context_length_error(std::string_view body) noexcept;

/// Classifies a non-2xx response. `what` names the call for the message
/// ("chat completion at http://host/v1"); the message quotes the server's
/// error message (or the start of the body) and says what to do.
endure::failure failure_from_response(const http_response& response, std::string_view what);

} // namespace endure::net
