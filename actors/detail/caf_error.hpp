// endure::error as a caf::error and back, so a refusal or failure keeps its
// code (errc) and its message across actor boundaries: the run manager and
// the run actors reply with these, and the runtime facade turns them back
// into endure::error for its callers. Category "endure"; the context holds
// the message as one string, so it survives serialization to another node
// without a registered renderer. Internal.
#pragma once

#include <string_view>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "endure/persistence/error.hpp"

CAF_ERROR_CODE_ENUM(endure::errc, "endure")

namespace endure::detail {

/// `e` as a caf::error of category "endure".
caf::error to_caf_error(const error& e);
inline caf::error to_caf_error(errc code, std::string message) {
  return to_caf_error(error{code, std::move(message)});
}

/// A caf::error as an endure::error: category "endure" keeps its code and
/// message; a request timeout is errc::timeout; anything else from CAF (the
/// receiver is gone, the system stops) is errc::shut_down, described after
/// `what` ("signal run r1: ...").
error from_caf_error(const caf::error& e, std::string_view what);

} // namespace endure::detail
