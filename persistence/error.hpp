// Errors as values for every endure boundary.
//
// `endure::error` is a code from one closed enum plus a message written for
// people (what went wrong, for which run and seq, what to do). Fallible calls
// return `endure::expected<T>`. This header is dependency-free on purpose:
// persistence, net and actors all speak it, and it stays out of CAF so the
// storage layer knows nothing of actors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace endure {

/// Every failure endure reports, one domain for the whole library.
enum class errc : std::uint8_t {
  /// An operating-system call failed (open, mkdir, write, fsync, ...).
  io_error = 1,
  /// Another process holds the data directory for writing.
  data_dir_locked,
  /// The LMDB map reached its configured maximum size.
  map_full,
  /// The disk has no room left for the data file.
  disk_full,
  /// A stored record failed its checksum or could not be parsed.
  corrupt_record,
  /// A stored record carries a type tag this build does not know.
  unknown_record_type,
  /// A stored record was written by a newer format or schema version.
  newer_record_version,
  /// The named run, record or key does not exist.
  not_found,
  /// The key already exists (e.g. an append to a seq that is taken).
  already_exists,
  /// The caller passed something malformed; the message says what.
  invalid_argument,
  /// The component was shut down before the operation could complete.
  shut_down,
  /// LMDB reported an internal error; the message carries its text.
  storage_error,
  /// A deadline passed before the operation completed (e.g. runtime::wait);
  /// nothing was changed by the timeout itself.
  timeout,
  /// The request does not apply to the target's current state (a signal to
  /// a run that has ended, the release of a run that is not quarantined);
  /// the message says which state and what to do instead.
  invalid_state,
  /// The caller is not allowed to do this (not an approver of a request).
  permission_denied,
};

/// Short stable name of a code, e.g. "corrupt_record".
std::string_view to_string(errc code) noexcept;

/// A failure: a code programs branch on, a message people read.
struct error {
  errc code;
  std::string message;

  /// "corrupt_record: run r1 seq 5: checksum mismatch ..."
  std::string to_string() const;
};

inline error make_error(errc code, std::string message) {
  return error{code, std::move(message)};
}

/// A value or an error of type E. Minimal stand-in for C++23
/// std::expected<T, E>; its two uses are endure::expected<T> (below) and
/// net::result<T>, whose error side is a classified endure::failure.
template <class T, class E>
class [[nodiscard]] basic_expected {
public:
  basic_expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  basic_expected(E err) : state_(std::in_place_index<1>, std::move(err)) {}

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
  const E& error() const& { return std::get<1>(state_); }
  E&& error() && { return std::get<1>(std::move(state_)); }

  /// True if this holds a value equal to `v` (as std::expected).
  template <class U>
  friend bool operator==(const basic_expected& e, const U& v) {
    return e.has_value() && e.value() == v;
  }

private:
  std::variant<T, E> state_;
};

/// A value or an endure::error: what every fallible endure call returns.
template <class T>
using expected = basic_expected<T, error>;

/// Success without a value, or an error.
template <>
class [[nodiscard]] basic_expected<void, error> {
public:
  basic_expected() = default;
  basic_expected(endure::error err) : error_(std::move(err)), failed_(true) {}

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  const endure::error& error() const& { return error_; }
  endure::error&& error() && { return std::move(error_); }

private:
  endure::error error_{errc::io_error, {}};
  bool failed_ = false;
};

} // namespace endure
