// The policy gate as a library: load a policy file once, then ask it, for
// each tool call an agent wants to make, whether the call waits for a
// person, under which rule, and who may decide it.
//
//   policy_gate_example [POLICY_FILE]
//
// Without POLICY_FILE it reads the policy.yaml beside this file.
#include <iostream>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/policy.hpp"

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : EXAMPLE_POLICY;
  auto policy = endure::gateway::load_policy_file(path);
  if (!policy) {
    // e.g. policy.yaml:16:5: interrupt_on.publish.quorum: 4 exceeds the 3 approvers named
    std::cerr << policy.error().message << "\n";
    return 1;
  }
  nlohmann::json args{{"title", "Durable agents"}, {"word_count", 1800}};
  if (auto rule = policy->gate("publish", args)) {
    std::cout << "publish waits for " << rule->quorum << " approvals ("
              << rule->description << ")\n";
    for (auto& why : rule->matched)
      std::cout << "  because " << why << "\n";  // /word_count gt 500 (is 1800)
    for (auto who : {"bob", "eve"})
      std::cout << "  " << who << (policy->may_decide(*rule, who) ? " may" : " may not")
                << " decide\n";
  }
  if (!policy->gate("search_web", nlohmann::json::object()))
    std::cout << "search_web runs at once\n";
  std::cout << "policy hash " << policy->hash() << "\n";  // journaled with each decision
  return 0;
}
