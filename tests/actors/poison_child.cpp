// The process the poison-step test starts again and again: one run "p" of
// workflow "poison", whose second step kills its own process (SIGKILL, as a
// segfault or the OOM killer would) as soon as its body runs. The runtime
// has its default options (durability sync, max_step_crashes 5). If the run
// ends instead (quarantined), prints "outcome: <status>: <why>".
//
//   poison_child DATA_DIR
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "endure/actors/endure.hpp"

using namespace endure;
using namespace std::chrono_literals;

namespace {

task<int> poison(context& ctx, int n) {
  auto add = [](int x) { return x + 1; };
  n = co_await ctx.step("fine", add, n);
  auto die = [](int x) {
    ::kill(::getpid(), SIGKILL);
    return x;
  };
  co_return co_await ctx.step("boom", die, n);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: poison_child DATA_DIR\n";
    return 2;
  }
  runtime_options opts;
  opts.journal.data_dir = argv[1];
  workflow_registry workflows;
  workflows.add("poison", &poison);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::cerr << "poison_child: " << rt.error().message << "\n";
    return 1;
  }
  if (auto started = (*rt)->start("poison", "p", 1); !started) {
    std::cerr << "poison_child: " << started.error().message << "\n";
    return 1;
  }
  auto out = (*rt)->wait("p", 30s);
  if (!out) {
    std::cerr << "poison_child: " << out.error().message << "\n";
    return 1;
  }
  std::cout << "outcome: " << to_string(out->status) << ": " << out->error << std::endl;
  return 0;
}
