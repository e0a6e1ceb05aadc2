// A run's timeline (run_timeline.hpp) in the JSON form `endure inspect
// --json` prints and GET /api/v1/runs/ID answers: one function, so the two
// never drift apart. Pure.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "endure/net/console/run_timeline.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::console {

/// {"run", "workflow", "status", "detail", "created_at_ms", "updated_at_ms",
///  "input", "steps": [{"index", "name", "attempts": [{"attempt", "outcome",
///  "started_at_ms", "duration_us", "seq", and when failed "error_class",
///  "message", "http_status"}], "result", and for an LLM step "usage"}],
///  "signals", "releases", "usage", and once ended "finished"}.
nlohmann::json timeline_json(const run_meta& m, const run_timeline& t);

/// The run's waits for people: its human-gateway requests (the `requests`
/// rows "RUN/..."), in key order, each {"id", "kind", "tool", "status",
/// "created_ms", "outcome"}: once answered, the outcome says who
/// ("principals"), how ("decision", "text"), when ("at_ms") and through what
/// ("channel"); null while pending. A damaged row is {"id", "error"}.
/// `endure inspect --json` and GET /api/v1/runs/ID put it under "requests".
expected<nlohmann::json> run_requests_json(const journal& j, const std::string& run_id);

/// The step's result as text of at most `max` characters; for an LLM step
/// the answer's content rather than the whole journaled response.
std::string result_summary(const step_view& s, std::size_t max);

} // namespace endure::console
