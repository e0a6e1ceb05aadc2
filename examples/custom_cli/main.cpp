// Your own workflows behind every `endure` subcommand: link endure's CLI
// library, register the workflows, hand over to endure::cli::main.
//
//   my_agent --data d run greet --input '"world"'    # runs, prints the result
//   my_agent --data d list                            # and every other subcommand
#include "actors/endure.hpp"
#include "cli/cli.hpp"

namespace {

// CLI-started workflows take the --input JSON text and return text.
endure::task<std::string> greet(endure::context& ctx, std::string name_json) {
  auto shout = [](const std::string& who) { return "hello, " + who + "!"; };
  auto text = co_await ctx.step("greet", shout, name_json);
  co_return text;
}

} // namespace

int main(int argc, char** argv) {
  endure::workflow_registry workflows;
  workflows.add("greet", &greet);
  return endure::cli::main(argc, argv, std::move(workflows));
}
