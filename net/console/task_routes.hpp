// The tasks of the console's API: GET /api/v1/tasks (every long task's id,
// goal and tally) and GET /api/v1/tasks/TASK (its ledger with each item's
// last evidence, audit, progress log, artifacts and last commits:
// actors/state/task_report.hpp). Read-only, for any viewer. The caller
// (console_api.cpp) has authenticated the principal and holds the runtime
// open. Any thread.
#pragma once

#include <string_view>

#include "endure/net/console/http_exchange.hpp"

namespace endure {
class runtime;
}

namespace endure::console {

http_response list_tasks(runtime& rt);

/// `task` is what follows "tasks/", percent-decoded.
http_response task_route(runtime& rt, const std::string& task);

} // namespace endure::console
