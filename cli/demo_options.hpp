// Settings of `endure demo`, shared by the demo and its hidden worker
// (`endure demo-worker`, the process the demo kills): which keywords, the
// sim model's latency and seed or the real endpoint, and where the kill
// falls. Internal to cli/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "endure/net/llm_config.hpp"

namespace endure::cli {

struct demo_options {
  /// One run per keyword. Default: four keywords.
  std::vector<std::string> keywords{"durable execution", "llm agents", "lmdb journal",
                                    "actor model"};
  /// Keywords whose search intent keyword research marked ambiguous: the
  /// agent asks a person which meaning to write about. Default: "actor
  /// model" (the programming model, or a model who acts?).
  std::vector<std::string> ambiguous{"actor model"};
  /// A policy file instead of the content agent's default policy.
  std::string policy_file;
  /// Sim latency per call (plus the same again as jitter). Default: 150 ms.
  int latency_ms = 150;
  /// Sim seed: changes every answer, latency and fault. Default: 1.
  std::uint64_t seed = 1;
  /// Deadline of one model call (sim timeouts fire here). Default: 2000 ms.
  int timeout_ms = 2000;
  /// Fraction of all steps completed when the worker is killed. Default: 0.4.
  double kill_at = 0.4;
  /// A real OpenAI-compatible endpoint; empty: the sim. Default: empty.
  std::string endpoint;
  std::string model;
  std::string api_key_env = "OPENAI_API_KEY";
  /// USD per 1000 prompt / completion tokens (the sim uses the defaults).
  double input_price_per_1k = 0.0025;
  double output_price_per_1k = 0.01;
};

/// The search intent the demo gives a keyword: "ambiguous" or
/// "informational".
std::string demo_intent(const demo_options& o, const std::string& keyword);

/// Run id of a keyword: "demo-" + the keyword with spaces as '-'.
std::string demo_run_id(const std::string& keyword);

/// Why `o` cannot make a demo, for people; nullopt when it can: an
/// --endpoint without --model, an empty keyword, two keywords that name
/// the same run, a --policy that does not load (its file:line:column).
std::optional<std::string> demo_options_problem(const demo_options& o);

/// Adds the flags both `demo` and `demo-worker` take.
void add_demo_flags(CLI::App* cmd, demo_options& o);

/// Starts a worker process (`args[0]` is the program, "/proc/self/exe" for
/// this one) that is killed with SIGKILL if the demo dies: a worker never
/// outlives the demo. Returns its pid.
int spawn_demo_worker(const std::vector<std::string>& args);

/// argv of the worker process for `data_dir`; it writes its counters to
/// `report`.
std::vector<std::string> demo_worker_argv(const demo_options& o, const std::string& data_dir,
                                          const std::string& mode, const std::string& report,
                                          const std::string& site);

/// The model configuration: the sim unless an endpoint is set.
net::llm_config demo_llm_config(const demo_options& o);

/// "sim (simulated model, no network ...)" or "<endpoint> model <m>".
std::string demo_model_description(const demo_options& o);

} // namespace endure::cli
