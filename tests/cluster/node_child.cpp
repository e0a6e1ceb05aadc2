// One cluster node as a child process for the cluster tests: a runtime on
// DATA_DIR with two workflows that say which node ran them, published as
// node NODE of the cluster file CONFIG. Prints "ready PORT" once it
// listens; stops at end of stdin (or dies by SIGKILL, which is the point).
// Its runtime has an escalation actor (default options), so a test reaches
// it and the human gateway by name. In replication mode takeover it runs the replicas it takes over
// (cli::hosted_replicas, as `endure serve` does), and when its standby
// fenced it, prints "fenced WHY" and exits with 3.
//
//   cluster_node_child CONFIG NODE DATA_DIR
//
// Workflows (input and result: msgpack strings):
//   where     -> "NODE:INPUT"                    one step
//   await_go  -> "NODE:PAYLOAD of signal go"     waits for signal "go", then one step
//   asks      -> "NODE:ANSWER"                   asks a person (ctx.ask_human) the
//                question INPUT and returns the answer
//   steps     -> "NODE:K"                        K steps (input "K"), step i returning
//                "NODE:i"; step i's body prints "acked RUN i-1 NODE:i-1"
//                (the previous step is durable by then)
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/escalation/escalation_options.hpp"
#include "endure/cli/hosted_replicas.hpp"
#include "endure/endure.hpp"
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/replication/replication.hpp"

namespace {

std::string node_name;

endure::task<std::string> where(endure::context& ctx, std::string input) {
  auto ran = ctx.step("run", [](const std::string& in) { return node_name + ":" + in; }, input);
  co_return co_await std::move(ran);
}

endure::task<std::string> await_go(endure::context& ctx, std::string) {
  auto go = co_await ctx.wait_signal<std::string>("go", std::chrono::hours(1));
  auto ran = ctx.step("run", [](const std::string& in) { return node_name + ":" + in; },
                      go.value_or("no signal"));
  co_return co_await std::move(ran);
}

endure::task<std::string> asks(endure::context& ctx, std::string question) {
  auto answer = co_await ctx.ask_human(question);
  co_return node_name + ":" + answer;
}

std::mutex print_mutex;

void print_line(const std::string& line) {
  std::lock_guard guard{print_mutex};
  std::cout << line << std::endl;
}

/// Step i's body runs only once step i-1's result is durable (an effect
/// waits for the commit; workflow code itself may see a result earlier),
/// so it is where step i-1's acknowledgement is printed.
endure::task<std::string> steps(endure::context& ctx, std::string input) {
  auto count = std::stoi(input);
  std::string last;
  for (int i = 1; i <= count; ++i) {
    auto ran = ctx.step("s" + std::to_string(i), [i, run = ctx.run_id(), last] {
      if (i > 1)
        print_line("acked " + run + " " + std::to_string(i - 1) + " " + last);
      return node_name + ":" + std::to_string(i);
    });
    last = co_await std::move(ran);
  }
  co_return last;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: cluster_node_child CONFIG NODE DATA_DIR\n";
    return 2;
  }
  node_name = argv[2];
  auto cfg = endure::cluster::load_cluster_config(argv[1], argv[2]);
  if (!cfg) {
    std::cerr << cfg.error().message << "\n";
    return 2;
  }
  caf::actor_system_config sys_cfg;
  endure::cluster::prepare_actor_system(sys_cfg, *cfg);
  caf::actor_system sys{sys_cfg};
  endure::runtime_options opts;
  opts.journal.data_dir = argv[3];
  opts.journal.mode = endure::durability::nosync;
  opts.escalation = std::make_shared<endure::escalation::escalation_options>();
  auto hosted_opts = opts;
  auto repl = endure::cluster::replication::start(sys, *cfg, opts.journal);
  if (repl)
    opts.journal.sink = repl->sink();
  endure::workflow_registry reg;
  reg.add("where", &where);
  reg.add("await_go", &await_go);
  reg.add("asks", &asks);
  reg.add("steps", &steps);
  auto hosted = std::make_shared<endure::cli::hosted_replicas>(
    sys, reg, [hosted_opts](const std::string& dir) {
      auto o = hosted_opts;
      o.journal.data_dir = dir;
      return o;
    });
  auto rt = endure::runtime::open(sys, std::move(opts), std::move(reg));
  if (!rt) {
    std::cerr << rt.error().message << "\n";
    return 1;
  }
  auto* r = rt->get();
  if (repl)
    repl->attach(r->store());
  if (repl && cfg->replication.takeover.count() > 0)
    repl->run_replicas_with([hosted](const std::string& primary, const std::string& dir) {
      return hosted->open(primary, dir);
    });
  auto node = endure::cluster::cluster_node::start(
    sys, *cfg, r->handle(), [r, hosted] { return hosted->add_runs(r->store().scan_runs()); },
    repl.get());
  if (!node) {
    std::cerr << node.error().message << "\n";
    return 1;
  }
  print_line("ready " + std::to_string((*node)->port()));
  std::atomic<bool> eof{false};
  std::thread{[&eof] {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    eof = true;
  }}.detach();
  int code = 0;
  while (!eof) {
    if (repl && !repl->fenced().empty()) {
      print_line("fenced " + repl->fenced());
      code = 3;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  node->reset();
  hosted->close();
  if (repl)
    repl->stop();
  if (code != 0)  // the runtime's runs wait on commits that fail: no clean stop
    std::_Exit(code);
  return code;
}
