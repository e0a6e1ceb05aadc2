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
// With --http ADDR:PORT the console (net/console/) serves its HTTP API next
// to the control channel, from the runtime's opening to its stopping: it is
// stopped (and its handlers finished) before the runtime. With --tls-cert
// and --tls-key it speaks TLS, which any address but loopback requires.
// --max-connections and --max-streams set the console's two connection caps
// (console_server.hpp).
// With --node FILE this process is the node its cluster file names
// (net/cluster/): it listens on its address with TLS and routes the
// service protocol to the node that has each run; the node stops before
// the runtime.
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "endure/cli/command.hpp"
#include "endure/cli/control_server.hpp"
#include "endure/cli/hosted_replicas.hpp"
#include "endure/cli/run_control.hpp"
#include "endure/cli/runtime_defaults.hpp"
#include "endure/net/auth/token_store.hpp"
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/replication/replication.hpp"
#include "endure/net/console/console_api.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/listen_address.hpp"

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

/// The console over `rt`, while it lives: the API attached, the server
/// listening; destroyed before the runtime closes.
struct console_service {
  net::auth::token_store tokens;
  std::unique_ptr<console::console_api> api;
  std::unique_ptr<console::console_server> server;
  ~console_service() {
    server.reset();  // no request reaches the API any more
    if (api)
      api->detach();
  }
};

/// Where and how the console serves (--http, --tls-cert, --tls-key,
/// --max-connections, --max-streams).
struct console_place {
  console::listen_address at;
  std::string tls_certificate, tls_key;
  std::size_t max_connections = console::server_options{}.max_connections;
  std::size_t max_streams = console::server_options{}.max_streams;
};

/// `text` of option `flag` as a count of at least 1.
expected<std::size_t> parse_cap(const std::string& flag, const std::string& text) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n == 0)
    return make_error(errc::invalid_argument,
                      flag + " takes a whole number from 1 up, not '" + text + "'");
  return n;
}

expected<std::unique_ptr<console_service>> open_console(runtime& rt, const command_env& env,
                                                        const console_place& place) {
  auto& at = place.at;
  auto& dir = env.globals.data_dir;
  auto tokens = net::auth::token_store::open(dir);
  if (!tokens)
    return std::move(tokens).error();
  auto svc = std::unique_ptr<console_service>(new console_service{std::move(*tokens), {}, {}});
  svc->api = std::make_unique<console::console_api>(svc->tokens);
  svc->api->set_tools(env.tools);
  svc->api->attach(rt);
  console::server_options o;
  o.host = at.host;
  o.port = at.port;
  o.tls_certificate = place.tls_certificate;
  o.tls_key = place.tls_key;
  o.max_connections = place.max_connections;
  o.max_streams = place.max_streams;
  auto* api = svc->api.get();
  auto server = console::console_server::start(
    o, [api](const console::http_request& r) { return api->handle(r); },
    [api](const console::http_request& r) { return api->answer_now(r); });
  if (!server)
    return std::move(server).error();
  svc->server = std::move(*server);
  return svc;
}

int serve(runtime& rt, const sigset_t& stop, const command_env& env,
          std::unique_ptr<control_server>& channel,
          const std::optional<console_place>& http) {
  auto& dir = env.globals.data_dir;
  auto started = open_control_channel(rt, dir, policy_hash_of(env.policy.get()));
  if (!started)
    return fail("cannot open the control socket, so no other command could reach this "
                "serve: " + started.error().message);
  channel = std::move(*started);
  std::unique_ptr<console_service> console;
  if (http) {
    auto opened = open_console(rt, env, *http);
    if (!opened)
      return fail("cannot start the console: " + opened.error().message);
    console = std::move(*opened);
    std::cout << "console listening on " << (console->server->tls() ? "https://" : "http://")
              << console->server->address() << "/" << std::endl;
  }
  auto* repl = env.node_replication->get();
  auto hosted = std::make_shared<hosted_replicas>(
    rt.handle().home_system(), rt.workflows(), [&env](const std::string& replica) {
      // The mode parsed once already, to open `rt`.
      return command_runtime_options(env, runtime_options{}, replica,
                                     parse_mode(env.globals.mode).value_or(durability::sync));
    });
  struct close_hosted {  // before the runtime and its actor system stop
    std::shared_ptr<hosted_replicas>& h;
    ~close_hosted() { h->close(); }
  } close_on_exit{hosted};
  if (repl && env.node->replication.takeover.count() > 0)
    repl->run_replicas_with([hosted](const std::string& primary, const std::string& dir) {
      return hosted->open(primary, dir);
    });
  std::unique_ptr<cluster::cluster_node> node;
  if (env.node) {
    auto started_node = cluster::cluster_node::start(
      rt.handle().home_system(), *env.node, rt.handle(),
      [&rt, hosted] { return hosted->add_runs(rt.store().scan_runs()); }, repl);
    if (!started_node)
      return fail("cannot start node " + env.node->self + ": " + started_node.error().message);
    node = std::move(*started_node);
    auto* me = env.node->find(env.node->self);
    std::cout << "node " << env.node->self << " of a cluster of " << env.node->nodes.size()
              << " listening on " << me->host << ":" << node->port() << " (TLS)" << std::endl;
  }
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
    if (repl)
      if (auto why = repl->fenced(); !why.empty())
        return fail("stopping: " + why);
    report_changes(rt.store(), seen);
  }
}

/// A command writing to the journal while no serve ran (`endure signal`,
/// `start`) holds the directory for milliseconds: serve waits that out
/// instead of failing. Default: 3 s.
constexpr auto lock_patience = std::chrono::seconds(3);

int open_and_serve(const command_env& env, const sigset_t& stop,
                   std::unique_ptr<control_server>& channel,
                   const std::optional<console_place>& http) {
  return with_runtime_when_free(
    env, [] { return runtime_options{}; },
    [&](runtime& rt) { return serve(rt, stop, env, channel, http); },
    lock_patience);
}

} // namespace

void add_serve_command(CLI::App& app, command_env& env) {
  auto* cmd = app.add_subcommand("serve", "resume every unfinished run and keep running");
  auto policy = add_policy_option(*cmd);
  auto http = std::make_shared<std::string>();
  cmd->add_option("--http", *http,
                  "serve the console's HTTP API on ADDRESS:PORT (port 0 picks one; an address "
                  "that is not loopback needs --tls-cert and --tls-key); tokens from "
                  "`endure token`");
  auto cert = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  cmd->add_option("--tls-cert", *cert,
                  "with --http: serve over TLS with this PEM certificate (chain) file");
  cmd->add_option("--tls-key", *key,
                  "with --http: the PEM private key file of --tls-cert's certificate");
  auto node_file = std::make_shared<std::string>();
  cmd->add_option("--node", *node_file,
                  "be a node of a cluster: its cluster file (YAML, see README), whose node: "
                  "names this node; listens on that node's address with TLS");
  auto max_connections = std::make_shared<std::string>();
  auto max_streams = std::make_shared<std::string>();
  cmd->add_option("--max-connections", *max_connections,
                  "with --http: open connections at most, event streams not counted; at the cap "
                  "the one idle longest makes room (default 256)");
  cmd->add_option("--max-streams", *max_streams,
                  "with --http: open event streams (GET /api/v1/events) at most; past it a new "
                  "stream gets 503 with Retry-After (default 1024)");
  cmd->callback([&env, policy, http, cert, key, node_file, max_connections, max_streams] {
    if (!load_policy_option(env, *policy)) {
      env.exit_code = 2;
      return;
    }
    if (!node_file->empty()) {
      auto c = cluster::load_cluster_config(*node_file);
      if (!c || c->self.empty()) {
        env.exit_code = 2;
        fail(c ? *node_file + ": names no node: give node: NAME (this node)" : c.error().message);
        return;
      }
      env.node = std::make_shared<const cluster::cluster_config>(std::move(*c));
    }
    std::optional<console_place> at;
    if ((!cert->empty() || !key->empty()) && (http->empty() || cert->empty() || key->empty())) {
      env.exit_code = 2;
      fail("--tls-cert and --tls-key go together, with --http ADDRESS:PORT; give all three");
      return;
    }
    if (!http->empty()) {
      auto parsed = console::parse_listen_address(*http, !cert->empty());
      if (!parsed) {
        env.exit_code = 2;
        fail(parsed.error().message);
        return;
      }
      at = console_place{*parsed, *cert, *key};
    }
    for (auto [flag, text, cap] :
         {std::tuple{"--max-connections", max_connections.get(), &console_place::max_connections},
          std::tuple{"--max-streams", max_streams.get(), &console_place::max_streams}}) {
      if (text->empty())
        continue;
      auto n = parse_cap(flag, *text);
      if (!n || !at) {
        env.exit_code = 2;
        fail(n ? std::string(flag) + " goes with --http ADDRESS:PORT" : n.error().message);
        return;
      }
      (*at).*cap = *n;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    std::unique_ptr<control_server> channel;  // outlives the runtime: see the top
    env.default_log_level = log::level::warn;  // a server: its log is the operator's view
    env.exit_code = open_and_serve(env, stop, channel, at);
    channel.reset();
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  });
}

} // namespace endure::cli
