// The process the escalation crash test kills: one run of the learner
// (learner.hpp) with the escalation actor, on DATA_DIR. Prints "recorded I"
// as outcomes become durable, then "done N" (N outcomes) when the run ends.
//
//   escalation_child DATA_DIR
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <iostream>

#include "escalation/learner.hpp"

using namespace endure;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: escalation_child DATA_DIR\n";
    return 2;
  }
  runtime_options opts;
  opts.journal.data_dir = argv[1];
  opts.journal.mode = durability::nosync;  // kill -9, not power loss
  opts.escalation = std::make_shared<escalation::escalation_options>(test::learner_options());
  workflow_registry workflows;
  workflows.add("learner", &test::learner);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::cerr << "escalation_child: " << rt.error().message << "\n";
    return 1;
  }
  if (auto started = (*rt)->start("learner", "learn", std::string{}); !started) {
    std::cerr << "escalation_child: " << started.error().message << "\n";
    return 1;
  }
  auto out = (*rt)->wait("learn", 120s);
  if (!out || out->status != run_status::completed) {
    std::cerr << "escalation_child: the run did not complete\n";
    return 1;
  }
  std::cout << "done " << out->value<std::string>() << std::endl;
  return 0;
}
