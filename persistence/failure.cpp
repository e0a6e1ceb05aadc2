// Names of failure classes and the HTTP status mapping.
#include "endure/persistence/failure.hpp"

namespace endure {

std::string_view to_string(failure_class c) noexcept {
  switch (c) {
    case failure_class::retryable: return "retryable";
    case failure_class::rate_limited: return "rate_limited";
    case failure_class::fatal: return "fatal";
    case failure_class::context_length_exceeded: return "context_length_exceeded";
  }
  return "unknown";
}

failure_class classify_http_status(int status) noexcept {
  if (status == 429)
    return failure_class::rate_limited;
  if (status == 408 || status == 409 || (status >= 500 && status <= 599))
    return failure_class::retryable;
  if (status >= 400 && status <= 499)
    return failure_class::fatal;
  return failure_class::retryable;
}

} // namespace endure
