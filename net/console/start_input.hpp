// A run's input from the JSON a person gives (`endure run|start --input`,
// POST /api/v1/runs's "input"): the workflow looked up in the registry, the
// JSON turned into msgpack (json_value.hpp) and checked against the
// workflow's input type before anything is written. One function, so the
// CLI and the console accept and refuse the same inputs with the same words.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "endure/actors/workflow_registry.hpp"
#include "endure/persistence/error.hpp"

namespace endure::console {

/// The msgpack input for a run of `workflow`; with no `json_text`, the
/// input type's default. Errors (invalid_argument): no such workflow (the
/// message lists the registered ones), no input where the type has no
/// default, text that is not JSON, JSON that does not fit the type. The
/// messages name the input as `field` ("--input", "\"input\"").
expected<std::string> start_input(const workflow_registry& workflows,
                                  const std::string& workflow,
                                  const std::optional<std::string>& json_text,
                                  std::string_view field);

} // namespace endure::console
