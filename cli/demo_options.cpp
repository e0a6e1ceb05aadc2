// demo_options.hpp: flags, worker argv, model configuration.
#include "endure/cli/demo_options.hpp"

#include "endure/actors/gateway/policy.hpp"
#include "endure/cli/content_pipeline.hpp"
#include "endure/persistence/run_meta.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace endure::cli {

std::string demo_run_id(const std::string& keyword) {
  std::string id = "demo-";
  for (char c : keyword)
    id += (c == ' ' || c == '/') ? '-' : c;
  return id;
}

std::string demo_intent(const demo_options& o, const std::string& keyword) {
  bool ambiguous = std::find(o.ambiguous.begin(), o.ambiguous.end(), keyword) != o.ambiguous.end();
  return ambiguous ? "ambiguous" : "informational";
}

std::optional<std::string> demo_options_problem(const demo_options& o) {
  if (!o.endpoint.empty() && o.model.empty())
    return "--endpoint needs --model (the model name the server serves)";
  std::vector<std::string> ids;
  for (auto& k : o.keywords) {
    if (k.empty())
      return "--keyword '' is empty: give the keyword to write about";
    auto id = demo_run_id(k);
    if (auto ok = validate_run_id(id); !ok)
      return "--keyword '" + k + "' cannot name a run: " + ok.error().message;
    if (std::find(ids.begin(), ids.end(), id) != ids.end())
      return "--keyword '" + k + "' names the same run (" + id + ") as an earlier keyword: "
             "give each keyword once";
    ids.push_back(id);
  }
  if (!o.policy_file.empty())
    if (auto p = gateway::load_policy_file(o.policy_file); !p)
      return p.error().message;
  return std::nullopt;
}

void add_demo_flags(CLI::App* cmd, demo_options& o) {
  cmd->add_option("--keyword", o.keywords, "a keyword to write about (repeatable; one run each)")
    ->capture_default_str();
  cmd->add_option("--ambiguous", o.ambiguous,
                  "a keyword whose search intent is ambiguous: the agent asks a person "
                  "(repeatable)")
    ->capture_default_str();
  cmd->add_option("--policy", o.policy_file,
                  "policy file instead of the content agent's default "
                  "(examples/content_agent/policy.yaml)")
    ->check(CLI::ExistingFile);
  cmd->add_option("--latency-ms", o.latency_ms, "sim latency per call, plus as much jitter")
    ->capture_default_str()
    ->check(CLI::Range(0, 60000));
  cmd->add_option("--seed", o.seed, "sim seed")->capture_default_str();
  cmd->add_option("--timeout-ms", o.timeout_ms, "deadline of one model call")
    ->capture_default_str()
    ->check(CLI::Range(10, 600000));
  cmd->add_option("--endpoint", o.endpoint,
                  "OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1 (default: sim)");
  cmd->add_option("--model", o.model, "model name sent to the endpoint");
  cmd->add_option("--api-key-env", o.api_key_env, "environment variable holding the API key")
    ->capture_default_str();
  cmd->add_option("--input-price", o.input_price_per_1k, "USD per 1000 prompt tokens")
    ->capture_default_str();
  cmd->add_option("--output-price", o.output_price_per_1k, "USD per 1000 completion tokens")
    ->capture_default_str();
}

std::vector<std::string> demo_worker_argv(const demo_options& o, const std::string& data_dir,
                                          const std::string& mode, const std::string& report,
                                          const std::string& site) {
  std::vector<std::string> a{"/proc/self/exe", "--data", data_dir, "--mode", mode, "demo-worker",
                             "--report", report, "--site", site, "--latency-ms", std::to_string(o.latency_ms),
                             "--seed", std::to_string(o.seed), "--timeout-ms",
                             std::to_string(o.timeout_ms), "--api-key-env", o.api_key_env,
                             "--input-price", std::to_string(o.input_price_per_1k),
                             "--output-price", std::to_string(o.output_price_per_1k)};
  for (auto& k : o.keywords) {
    a.push_back("--keyword");
    a.push_back(k);
  }
  for (auto& k : o.ambiguous) {
    a.push_back("--ambiguous");
    a.push_back(k);
  }
  if (!o.policy_file.empty())
    a.insert(a.end(), {"--policy", o.policy_file});
  if (!o.endpoint.empty()) {
    a.insert(a.end(), {"--endpoint", o.endpoint, "--model", o.model});
  }
  return a;
}

net::llm_config demo_llm_config(const demo_options& o) {
  auto c = demo_sim_config(o.latency_ms, o.seed);
  c.base_url = o.endpoint;
  c.model = o.model;
  c.api_key_env = o.api_key_env;
  c.request_timeout = std::chrono::milliseconds{o.timeout_ms};
  c.input_price_per_1k = o.input_price_per_1k;
  c.output_price_per_1k = o.output_price_per_1k;
  return c;
}

std::string demo_model_description(const demo_options& o) {
  if (!o.endpoint.empty())
    return "OpenAI-compatible endpoint " + o.endpoint + ", model " + o.model + " (key from $"
           + o.api_key_env + ")";
  return "sim (the simulated model, no network: " + std::to_string(o.latency_ms) + "-"
         + std::to_string(2 * o.latency_ms)
         + " ms per call, injected faults: 7% rate limits, 5% server errors, 2% timeouts)";
}

int spawn_demo_worker(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the worker never outlives the demo
    ::execv(argv[0], argv.data());
    std::perror("endure demo: cannot exec the worker");
    ::_exit(127);
  }
  return pid;
}

} // namespace endure::cli
