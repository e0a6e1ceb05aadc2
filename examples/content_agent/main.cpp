// The content agent as a program of your own: its workflow and tools behind
// every `endure` subcommand (run, serve, inbox, approve, ...).
//
//   content_agent_example --data d run content_agent --policy policy.yaml \
//       --input '{"keyword": "actor model", "intent": "ambiguous"}'
//   content_agent_example --data d inbox            # in another terminal
//   content_agent_example --data d answer ID "the programming model" --as ann
//   content_agent_example --data d approve ID --as ed
//
// Articles go to ./content-site (CONTENT_SITE_DIR to change it).
#include <cstdlib>

#include "content_agent.hpp"
#include "endure/cli/cli.hpp"

int main(int argc, char** argv) {
  const char* site = std::getenv("CONTENT_SITE_DIR");
  endure::workflow_registry workflows;
  content_agent::register_workflows(workflows);
  return endure::cli::main(argc, argv, std::move(workflows),
                           content_agent::make_tools(site ? site : "content-site"));
}
