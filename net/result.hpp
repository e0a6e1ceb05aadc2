// The outcome of a network call: a value or a classified endure::failure.
//
// Network calls fail in ways the retry machinery must tell apart (rate
// limited, retryable, fatal, context too long), so the error side is an
// `endure::failure`, not an `endure::error`: the class is a property of the
// value and nobody parses messages. Plain value type, no threads involved.
#pragma once

#include "persistence/failure.hpp"

#include <utility>
#include <variant>

namespace endure::net {

/// A value or a failure. Same shape as `endure::expected<T>`, with
/// `failure()` in place of `error()`.
template <class T>
class [[nodiscard]] result {
public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  result(endure::failure f) : state_(std::in_place_index<1>, std::move(f)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// Precondition: !has_value().
  const endure::failure& failure() const& { return std::get<1>(state_); }
  endure::failure&& failure() && { return std::get<1>(std::move(state_)); }

private:
  std::variant<T, endure::failure> state_;
};

/// Shorthand used throughout net/.
inline endure::failure make_failure(failure_class cls, std::string message,
                                    int http_status = 0) {
  return endure::failure{cls, std::move(message), {}, http_status};
}

} // namespace endure::net
