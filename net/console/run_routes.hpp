// The runs half of the console's API (console_api.hpp lists the routes):
// GET /api/v1/runs (filters, paging), GET /api/v1/runs/ID (the timeline),
// POST /api/v1/runs (start) and POST /api/v1/runs/ID/signal|cancel|release.
// The caller (console_api.cpp) has authenticated the principal, checked
// its role and holds the runtime open. Any thread.
#pragma once

#include <chrono>
#include <string_view>

#include "endure/net/console/detail/api_request.hpp"
#include "endure/net/console/http_exchange.hpp"

namespace endure {
class runtime;
}
namespace endure::net::auth {
struct principal;
}

namespace endure::console {

/// GET /api/v1/runs[?status=&workflow=&waiting_for_human=true&older_than=&newer_than=&limit=&after=].
http_response list_runs(runtime& rt, const detail::target& t);

/// POST /api/v1/runs {"workflow", "id", "input"}: starts the run, waiting
/// for the runtime at most `answer_limit`.
http_response start_run(runtime& rt, const net::auth::principal& who, const http_request& req,
                        std::chrono::milliseconds answer_limit);

/// runs/ID[/signal|/cancel|/release], `rest` being what follows "runs/":
/// the timeline on GET (and HEAD), the action on POST.
http_response run_route(runtime& rt, const net::auth::principal& who, std::string_view rest,
                        const http_request& req, std::chrono::milliseconds answer_limit);

} // namespace endure::console
