// The body of a journaled step that embeds a text with the runtime's model
// (runtime_options::llm's /v1/embeddings; the sim embeds offline), shared
// by the steps that want model embeddings (escalation::assess, the memory
// steps). Internal.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "endure/actors/step_info.hpp"

namespace endure::detail {

class step_services;

/// fn(info, text) -> the model's vector for `text`, blocking (an activity
/// thread) at most the backend's default_timeout() (else llm_config's
/// request_timeout) plus 2 s. Failures keep their class (throws
/// step_error); no model configured, or a reply without exactly one
/// vector, is fatal. Messages begin with `where` (run and step).
std::function<std::vector<float>(const step_info&, const std::string&)>
model_embedding(step_services* services, std::string where);

} // namespace endure::detail
