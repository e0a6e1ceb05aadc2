// Exceptions endure throws into workflow code. A workflow may catch them
// (e.g. to fall back after a step failed for good); uncaught, they end the
// run: step_failed_error and cancelled_error run the saga's compensations.
#pragma once

#include <stdexcept>
#include <string>

#include "endure/persistence/failure.hpp"

namespace endure {

/// A step failed for good: fatal, or retries exhausted. info() says how.
class step_failed_error : public step_error {
public:
  step_failed_error(std::string step_name, endure::failure f)
    : step_error(std::move(f)), step_name_(std::move(step_name)) {}
  const std::string& step_name() const noexcept { return step_name_; }

private:
  std::string step_name_;
};

/// The run was cancelled from outside.
class cancelled_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Replay asked for a different step than the journal holds at this
/// position. The run is quarantined; catching this does not un-quarantine.
class non_determinism_error : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

} // namespace endure
