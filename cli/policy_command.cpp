// `endure policy check FILE`: validates a policy file (the gate of tool
// calls, actors/gateway/) the way the runtime will load it, and prints what
// it gates, who decides, and the policy hash that decisions are journaled
// with. A refused file prints the loader's error as it is, starting with
// FILE:LINE:COLUMN, so editors can jump to it. Opens no data directory.
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
