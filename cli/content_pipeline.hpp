// The demo agent: the talk's content pipeline. One run per keyword, 20
// durable steps, each one ctx.llm call to the runtime's model (the `sim`
// unless an endpoint is given): research the keyword, read four sources,
// extract facts, outline, draft six sections, intro and conclusion, edit,
// fact-check, title, score, publish. Each step's token usage and cost is
// journaled with its answer, so `endure demo` prices what a restart without
// a journal would have spent again.
#pragma once

#include <cstdint>
#include <string>

#include "endure/actors/endure.hpp"
#include "endure/net/llm_backend.hpp"

namespace endure::cli {

/// Steps of one content_pipeline run.
inline constexpr int content_pipeline_steps = 20;

/// Documented demo prices (USD per 1000 tokens, gpt-4o list prices), used
/// for the sim and unless overridden for an endpoint.
inline constexpr double demo_input_price_per_1k = 0.0025;
inline constexpr double demo_output_price_per_1k = 0.01;

/// The sim settings of the demo: `latency_ms` + jitter, 7% rate limits, 5%
/// server errors, 2% timeouts; `seed` changes every draw.
net::llm_config demo_sim_config(int latency_ms, std::uint64_t seed);

/// The workflow: input = keyword, result = the published article's title
/// line and score.
task<std::string> content_pipeline(context& ctx, std::string keyword);

/// Registers content_pipeline as "content_pipeline".
void register_content_pipeline(workflow_registry& registry);

} // namespace endure::cli
