// The outcome of a network call: a value or a classified endure::failure.
//
// Network calls fail in ways the retry machinery must tell apart (rate
// limited, retryable, fatal, context too long), so the error side is an
// `endure::failure`, not an `endure::error`: the class is a property of the
// value and nobody parses messages. Plain value type, no threads involved.
#pragma once

#include "endure/persistence/error.hpp"
#include "endure/persistence/failure.hpp"

#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace endure::net {

/// A value or a failure; `error()` gives the failure.
template <class T>
using result = endure::basic_expected<T, endure::failure>;

/// Shorthand used throughout net/.
inline endure::failure make_failure(failure_class cls, std::string message,
                                    int http_status = 0) {
  return endure::failure{cls, std::move(message), {}, http_status};
}

/// The failure for an exception caught where a call's callback must still
/// run (between an answer and `done`): an endure::step_error keeps its
/// class; anything else (std::bad_alloc, a bug) is retryable, as any
/// unclassified exception is (persistence/failure.hpp). The message names
/// `what` (the call) and the exception.
endure::failure failure_from_exception(std::exception_ptr error, std::string_view what);

} // namespace endure::net
