// How a run ended, read from its journal or reported by its actor.
#pragma once

#include <string>
#include <string_view>

#include "endure/actors/serialization.hpp"
#include "endure/persistence/journal.hpp"

namespace endure {

struct run_outcome {
  run_status status = run_status::running;
  std::string result;  ///< msgpack of the workflow's result (completed runs)
  std::string error;   ///< why it failed, was cancelled or quarantined

  /// The result as T (completed runs only).
  template <class T>
  T value() const { return from_bytes<T>(result); }
};

/// The outcome of a run that has ended (terminal or quarantined) as its
/// journal holds it; for a run still going, {status, "", ""}.
expected<run_outcome> read_outcome(const journal& store, std::string_view run_id);

} // namespace endure
