// The `endure` command line as a library entry point: a program that links
// endure and registers its own workflows gets every subcommand for them.
//
//   int main(int argc, char** argv) {
//     endure::workflow_registry workflows;
//     workflows.add("my_flow", &my_flow);
//     return endure::cli::main(argc, argv, std::move(workflows));
//   }
#pragma once

#include "endure/actors/workflow_registry.hpp"

namespace endure::cli {

/// Parses the arguments and runs one subcommand; returns the exit code
/// (0 success, 1 failure, 2 bad usage). Built-in workflows (the seed
/// pipeline) are added to `workflows`.
int main(int argc, char** argv, workflow_registry workflows);

} // namespace endure::cli
