// The `endure` command line as a library entry point: a program that links
// endure and registers its own workflows gets every subcommand for them.
//
//   int main(int argc, char** argv) {
//     endure::workflow_registry workflows;
//     workflows.add("my_flow", &my_flow);
//     return endure::cli::main(argc, argv, std::move(workflows));
//   }
//
// Pass the program's tools too (a shared agent::tool_registry) and ctx.tool
// works in `endure run` and `serve`, gated by their --policy.
#pragma once

#include <memory>

#include "endure/actors/workflow_registry.hpp"

namespace endure::agent {
class tool_registry;
}

namespace endure::cli {

/// Parses the arguments and runs one subcommand; returns the exit code
/// (0 success, 1 failure, 2 bad usage). Built-in workflows (the seed
/// pipeline) are added to `workflows`. `tools` (may be null) are the
/// runtime's tools (runtime_options::tools) in every command that opens
/// one, and check `endure edit`s made with no serve running.
int main(int argc, char** argv, workflow_registry workflows,
         std::shared_ptr<const agent::tool_registry> tools = nullptr);

} // namespace endure::cli
