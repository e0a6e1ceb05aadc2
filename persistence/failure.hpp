// How a failed operation should be treated: the error classification that
// retry policies, the workflow core and the HTTP clients share.
//
// It lives in persistence/ only because that is the bottom layer every other
// layer (net, supervisors, actors) may include; it has no dependencies.
// Failure is a property of the error value: nobody parses error strings.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace endure {

enum class failure_class : std::uint8_t {
  /// Try again after backoff: timeouts, connection reset/refused, HTTP 408,
  /// 409, 5xx, and any exception that is not classified otherwise.
  retryable = 1,
  /// Try again, not before `retry_after` if given: HTTP 429.
  rate_limited,
  /// Never retried: HTTP 400/401/403/404/422, schema violations,
  /// endure::fatal_error.
  fatal,
  /// The model's context window was exceeded: not retried as is; a workflow
  /// may catch it, compact its context and call again.
  context_length_exceeded,
};

std::string_view to_string(failure_class c) noexcept;

/// A classified failure, as journaled for a step attempt.
struct failure {
  failure_class cls = failure_class::retryable;
  std::string message;
  /// Server-requested wait (Retry-After), if any.
  std::optional<std::chrono::milliseconds> retry_after;
  /// HTTP status that caused it, 0 if none.
  int http_status = 0;
};

/// HTTP status -> class: 408, 409, 5xx retryable; 429 rate_limited; other
/// 4xx fatal; anything else (1xx, 2xx, 3xx reaching here) retryable.
failure_class classify_http_status(int status) noexcept;

// -- exceptions a step function may throw --------------------------------------

/// Base of the classified exceptions; anything else thrown by a step counts
/// as retryable.
class step_error : public std::runtime_error {
public:
  explicit step_error(endure::failure f)
    : std::runtime_error(f.message), failure_(std::move(f)) {}
  const endure::failure& info() const noexcept { return failure_; }

private:
  endure::failure failure_;
};

/// Never retried.
class fatal_error : public step_error {
public:
  explicit fatal_error(std::string message)
    : step_error({failure_class::fatal, std::move(message), {}, 0}) {}
};

/// Retried per the step's retry policy.
class retryable_error : public step_error {
public:
  explicit retryable_error(std::string message)
    : step_error({failure_class::retryable, std::move(message), {}, 0}) {}
};

/// Retried, not before `retry_after` when given.
class rate_limited_error : public step_error {
public:
  explicit rate_limited_error(std::string message,
                              std::optional<std::chrono::milliseconds> retry_after = {})
    : step_error({failure_class::rate_limited, std::move(message), retry_after, 429}) {}
};

} // namespace endure
