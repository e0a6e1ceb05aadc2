// The `endure` binary: the CLI with the built-in workflows only.
#include "endure/cli/cli.hpp"

int main(int argc, char** argv) {
  return endure::cli::main(argc, argv, endure::workflow_registry{});
}
