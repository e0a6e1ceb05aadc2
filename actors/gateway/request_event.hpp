// The detail of a lifecycle event the human gateway sends its subscribers
// (actors/atoms.hpp, subscribe): what a subscriber needs to show or route
// the event without reading the row. A pure function of the row; any thread.
#pragma once

#include <string>
#include <string_view>

#include "endure/actors/gateway/human_request.hpp"

namespace endure::gateway {

/// {"tool", "kind", "status", "eligible", "since_ms", "due_ms"} plus the
/// fields of `kind` (waiting, counted, decided, expired, escalated,
/// reminder) listed in actors/atoms.hpp, as JSON text.
std::string event_detail(std::string_view kind, const human_request& r);

} // namespace endure::gateway
