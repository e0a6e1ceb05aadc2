// The seed pipeline workload of ../shared/bench/WORKLOAD.md: one run per id,
// 20 sequential durable steps, each hashing the previous value. Every
// execution of a step body (not a replay) appends "<run_id> <k>\n" to a
// counter file, so tests and benchmarks can count re-executions.
#pragma once

#include <string>

#include "endure/actors/endure.hpp"

namespace endure::cli {

/// v0: "seed:" + run_id + ":" padded with '.' and cut to 200 characters.
std::string seed_value(const std::string& run_id);
/// v(k) from v(k-1): sha256_hex(run_id|k|prev) + prev[0:136].
std::string seed_step(const std::string& run_id, int k, const std::string& prev);
/// v20 computed directly, without a runtime (test oracle).
std::string seed_expected(const std::string& run_id);

/// Where step executions are counted; -1 (the default) counts nothing.
/// Set before runs start; the file descriptor must be opened O_APPEND.
void set_counter_fd(int fd);

/// Called at the start of every executed step body (not a replay), on the
/// thread that runs it; nullptr (the default) calls nothing. Set before
/// runs start. The pipeline benchmark times the gaps between steps with it.
using step_observer = void (*)(const std::string& run_id, int k);
void set_step_observer(step_observer observer);

/// The workflow: input = run id, result = v20. Its steps run inline (on
/// the run's thread: the body is a hash of 200 bytes).
task<std::string> seed_pipeline(context& ctx, std::string run_id);
/// The same with every step on the activity pool, to measure what the
/// hand-off to a pool thread and back costs.
task<std::string> seed_pipeline_pooled(context& ctx, std::string run_id);

/// Registers seed_pipeline as "seed_pipeline" and seed_pipeline_pooled as
/// "seed_pipeline_pooled".
void register_seed_pipeline(workflow_registry& registry);

} // namespace endure::cli
