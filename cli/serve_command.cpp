// `endure serve`: opens the runtime (resuming every unfinished run) and
// keeps it running until SIGINT or SIGTERM, printing each run that ends.
// The signals are blocked before the actor system starts, so every thread
// inherits the mask and only sigtimedwait here sees them.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "cli/command.hpp"

namespace endure::cli {

namespace {

/// Prints runs whose status changed since `seen`.
void report_changes(const journal& j, std::map<std::string, run_status>& seen) {
  auto runs = j.list_runs();
  if (!runs)
    return;
  for (auto& m : *runs) {
    auto it = seen.find(m.id);
    if (it != seen.end() && it->second == m.status)
      continue;
    if (it != seen.end() || is_terminal(m.status))
      std::cout << "run " << m.id << ": " << to_string(m.status) << std::endl;
    seen[m.id] = m.status;
  }
}

int serve(runtime& rt, const sigset_t& stop, const std::string& dir) {
  std::map<std::string, run_status> seen;
  auto runs = rt.store().list_runs();
  std::size_t unfinished = 0;
  if (runs)
    for (auto& m : *runs) {
      seen[m.id] = m.status;
      unfinished += is_terminal(m.status) ? 0 : 1;
    }
  std::cout << "serving " << dir << " (pid " << ::getpid() << "): " << unfinished
            << " unfinished runs resumed; SIGINT or SIGTERM stops" << std::endl;
  timespec tick{1, 0};
  for (;;) {
    int sig = ::sigtimedwait(&stop, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      std::cout << "stopping on " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                << "; unfinished runs resume at the next start" << std::endl;
      return 0;
    }
    report_changes(rt.store(), seen);
  }
}

} // namespace

void add_serve_command(CLI::App& app, command_env& env) {
  auto* cmd = app.add_subcommand("serve", "resume every unfinished run and keep running");
  cmd->callback([&env] {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    runtime_options opts;
    env.exit_code = with_runtime(env, opts, [&](runtime& rt) {
      return serve(rt, stop, env.globals.data_dir);
    });
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  });
}

} // namespace endure::cli
