// Your own workflows behind every `endure` subcommand: link endure's CLI
// library, register the workflows, hand over to endure::cli::main.
//
//   my_agent --data d run greet --input '"world"'           # prints "hello, world!"
//   my_agent --data d run greet_all --input '["ann", "bo"]'  # ["hello, ann!","hello, bo!"]
//   my_agent --data d list                                  # and every other subcommand
//
// --input is the workflow's input as JSON (a JSON string for a std::string,
// an array for a vector, an object for a struct with MSGPACK_DEFINE_MAP);
// the result is printed as JSON.
#include "endure/endure.hpp"
#include "endure/cli/cli.hpp"

namespace {

endure::task<std::string> greet(endure::context& ctx, std::string name) {
  auto hello = [](const std::string& who) { return "hello, " + who + "!"; };
  auto text = co_await ctx.step("greet", hello, name);
  co_return text;
}

endure::task<std::vector<std::string>> greet_all(endure::context& ctx,
                                                 std::vector<std::string> names) {
  auto hello = [](const std::string& who) { return "hello, " + who + "!"; };
  std::vector<std::string> out;
  for (auto& name : names) {
    auto step = "greet " + name;  // a named local: see README, "g++ 12 pitfall"
    auto text = co_await ctx.step(step, hello, name);
    out.push_back(text);
  }
  co_return out;
}

} // namespace

int main(int argc, char** argv) {
  endure::workflow_registry workflows;
  workflows.add("greet", &greet);
  workflows.add("greet_all", &greet_all);
  return endure::cli::main(argc, argv, std::move(workflows));
}
