// `endure serve`: opens the runtime (resuming every unfinished run) and
// keeps it running until SIGINT or SIGTERM, printing each run that ends.
// While it holds the data directory, other `endure` commands reach its
// runtime through the control channel (control_server.hpp, run_control.hpp).
// The order of stopping matters: the channel first stops taking requests
// and finishes the ones in progress, then the runtime stops (letting go of
// the data directory), and only then the channel closes, so a client always
// hears either an answer or "stopping" (then it waits for the directory).
// The signals are blocked before the actor system starts, so every thread
// inherits the mask and only sigtimedwait here sees them.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "cli/command.hpp"
#include "cli/control_server.hpp"
#include "cli/run_control.hpp"

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

int serve(runtime& rt, const sigset_t& stop, const std::string& dir,
          std::unique_ptr<control_server>& channel) {
  auto started = control_server::start(
    dir, [&rt](const control_request& r, const std::atomic<bool>& stopping) {
      return apply_live(rt, r, stopping);
    });
  if (!started)
    return fail("cannot open the control socket, so no other command could reach this "
                "serve: " + started.error().message);
  channel = std::move(*started);
  std::map<std::string, run_status> seen;
  auto runs = rt.store().list_runs();
  std::size_t unfinished = 0;
  if (runs)
    for (auto& m : *runs) {
      seen[m.id] = m.status;
      unfinished += is_terminal(m.status) ? 0 : 1;
    }
  std::cout << "serving " << dir << " (pid " << ::getpid() << "): " << unfinished
            << " unfinished runs resumed; requests on " << channel->path()
            << "; SIGINT or SIGTERM stops" << std::endl;
  timespec tick{1, 0};
  for (;;) {
    int sig = ::sigtimedwait(&stop, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      std::cout << "stopping on " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                << "; unfinished runs resume at the next start" << std::endl;
      if (!channel->stop_requests(std::chrono::minutes(1))) {
        // The runtime did not answer a request for a minute: stopping it
        // cleanly would wait on it too. The journal is safe without a clean
        // stop (the same as after a kill), so go now.
        fail("a request to the runtime did not finish within a minute; exiting without a "
             "clean shutdown (the journal is intact: unfinished runs resume at the next start)");
        std::_Exit(1);
      }
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
    std::unique_ptr<control_server> channel;  // outlives the runtime: see the top
    env.exit_code = with_runtime(env, opts, [&](runtime& rt) {
      return serve(rt, stop, env.globals.data_dir, channel);
    });
    channel.reset();
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  });
}

} // namespace endure::cli
