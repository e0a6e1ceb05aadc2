// `endure policy check FILE`: validates a policy file (the gate of tool
// calls, actors/gateway/) the way the runtime will load it, and prints what
// it gates, who decides, and the policy hash that decisions are journaled
// with. A refused file prints the loader's error as it is, starting with
// FILE:LINE:COLUMN, so editors can jump to it. Opens no data directory.
// Also --policy FILE, the option `run` and `serve` load the same way.
#include <iostream>

#include "endure/actors/gateway/policy.hpp"
#include "endure/cli/command.hpp"

namespace endure::cli {

namespace {

int check_policy(const std::string& path) {
  auto p = gateway::load_policy_file(path);
  if (!p) {
    std::cerr << p.error().message << "\n";
    return 1;
  }
  auto gated = p->gated_tools().size();
  std::cout << path << ": valid policy; " << gated << (gated == 1 ? " tool" : " tools")
            << " gated\n";
  for (auto& line : p->describe())
    std::cout << "  " << line << "\n";
  std::cout << "policy hash: " << p->hash() << "\n";
  return 0;
}

} // namespace

std::shared_ptr<std::string> add_policy_option(CLI::App& cmd) {
  auto path = std::make_shared<std::string>();
  cmd.add_option("--policy", *path,
                 "policy file (YAML): which tool calls wait for a person (endure policy check)");
  return path;
}

bool load_policy_option(command_env& env, const std::string& path) {
  if (path.empty())
    return true;
  auto p = gateway::load_policy_file(path);
  if (!p) {
    std::cerr << "endure: --policy refused: " << p.error().message << "\n";
    return false;
  }
  env.policy = std::make_shared<const gateway::policy>(std::move(*p));
  return true;
}

void add_policy_command(CLI::App& app, command_env& env) {
  auto* policy = app.add_subcommand("policy", "policy files: which tool calls wait for a person");
  policy->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* check = policy->add_subcommand(
    "check", "validate a policy file; print what it gates, who decides, and its hash");
  check->add_option("FILE", *file, "the policy (YAML), e.g. policy.yaml")->required();
  check->callback([&env, file] { env.exit_code = check_policy(*file); });
}

} // namespace endure::cli
