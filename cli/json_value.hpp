// JSON <-> msgpack as the CLI names it: the code moved to
// net/console/json_value.hpp so the console (which the CLI links) takes a
// run's input and shows its result the same way.
#pragma once

#include "endure/net/console/json_value.hpp"

namespace endure::cli {

using console::json_to_msgpack;
using console::msgpack_to_json;

} // namespace endure::cli
