// The tasks of the console's API (task_routes.hpp).
#include "endure/net/console/task_routes.hpp"

#include <nlohmann/json.hpp>

#include "endure/actors/runtime.hpp"
#include "endure/actors/state/task_report.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/detail/api_request.hpp"

namespace endure::console {

using namespace detail;

http_response list_tasks(runtime& rt) {
  auto list = state::task_list_json(rt.store());
  if (!list)
    return error_response(500, to_string(list.error().code),
                          "cannot list the tasks: " + list.error().message);
  return json_response(200, nlohmann::json::parse(*list));
}

http_response task_route(runtime& rt, const std::string& task) {
  auto report = state::task_report_json(rt.store(), task);
  if (!report && report.error().code == errc::not_found)
    return error_response(404, "not_found",
                          "no task " + task + "; GET /api/v1/tasks lists the tasks there are");
  // A damaged row says so (corrupt_record): the ledger is never shown
  // shorter than it is; `endure task ID` names the row too.
  if (!report)
    return error_response(500, to_string(report.error().code),
                          "cannot read task " + task + ": " + report.error().message);
  return json_response(200, nlohmann::json::parse(*report));
}

} // namespace endure::console
