// A store's error inside a step body of actors/state, thrown as the step
// failure it is. What may pass on another attempt: the journal, the disk or
// git failing (io_error, storage_error, map_full, disk_full, timeout,
// shut_down). What cannot: bad input, a conflict, a damaged row: those
// fail the step at once (fatal), so a run never retries into the same
// refusal. One rule for the ledger, memory, artifact, workspace and
// session-loop steps. Internal.
#pragma once

#include <string>
#include <type_traits>

#include "endure/actors/workflow_errors.hpp"
#include "endure/persistence/error.hpp"

namespace endure::state::detail {

[[noreturn]] inline void throw_step_failure(const std::string& where, const error& e) {
  auto message = where + ": " + e.message;
  switch (e.code) {
    case errc::io_error:
    case errc::storage_error:
    case errc::map_full:
    case errc::disk_full:
    case errc::timeout:
    case errc::shut_down:
      throw retryable_error(message);
    default:
      throw fatal_error(message);
  }
}

/// The value, or the step failure its error is.
template <class T>
T value_or_throw(expected<T> v, const std::string& where) {
  if (!v)
    throw_step_failure(where, v.error());
  if constexpr (!std::is_void_v<T>)
    return std::move(*v);
}

} // namespace endure::state::detail
