// The model's stated confidence behind a request a person decides: an
// agent (actors/agent/run_agent.hpp) asks the model for a confidence on
// every turn, and the turn that made the gated call (or asked the human)
// is the last model step before the request's own step in the run's
// journal. The request row does not carry it, so it is read from there.
// Any thread; reads the journal only.
#pragma once

#include <optional>
#include <string>

namespace endure {
class journal;
}

namespace endure::console {

/// The confidence (0 to 1) the model stated on the last model turn before
/// the step that raised request `request_id` ("RUN/STEP"); nullopt when
/// the id has another shape, the run's journal cannot be read, no model
/// step comes before it or that turn stated none (a model that was not
/// asked, a workflow's own ctx.tool call).
std::optional<double> request_confidence(const journal& store, const std::string& request_id);

} // namespace endure::console
