// The process the agent crash test kills: one run of "agent_turn", a
// run_agent loop whose model is the OpenAI-compatible server at BASE_URL
// and whose first turn calls search, publish and send_email at once (the
// sim's `[sim: call ...; parallel 3]`); POLICY gates publish and send_email,
// search is let through. Each tool appends "NAME" to TOOL_LOG when it has
// done its work, so the test counts executions.
//
//   agent_child DATA_DIR BASE_URL POLICY TOOL_LOG [--hold-first-request | --hold-tool NAME]
//
// What it prints on stdout, one line each:
//   waiting ID TOOL    the human gateway says request ID is waiting
//   holding ID         (--hold-first-request) the first request is raised and
//                      the process holds there: the gateway's event is handled
//                      on the only CAF worker, which then blocks, so the run
//                      actor journals nothing more (its next gate step
//                      normally has not started; see run() for why)
//   tool NAME holding  (--hold-tool NAME) tool NAME was entered and holds
//                      before doing anything
//   result: JSON       the run completed with this agent_answer
// A hold waits for a line on stdin, at most 60 s (then it goes on): the
// test kills the process while it holds.
#include <caf/all.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <string>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/endure.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/actors/system_settings.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::mutex out_mutex;

void say(const std::string& line) {
  std::lock_guard g{out_mutex};
  std::cout << line << std::endl;
}

/// Blocks until a line arrives on stdin or 60 s pass (bounded: a test that
/// failed to kill this process does not leave it hanging).
void hold() {
  pollfd in{STDIN_FILENO, POLLIN, 0};
  if (::poll(&in, 1, 60'000) > 0) {
    char c;
    while (::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
    }
  }
}

void log_execution(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    throw fatal_error("cannot open " + path);
  auto text = line + "\n";
  auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    throw fatal_error("cannot append to " + path);
}

struct settings {
  std::string data, base_url, policy, tool_log;
  bool hold_first_request = false;
  std::string hold_tool;
};

std::shared_ptr<const agent::tool_registry> tools(const settings& s) {
  auto r = std::make_shared<agent::tool_registry>();
  json text = {{"type", "object"},
               {"properties", {{"text", {{"type", "string"}, {"maxLength", 40}}}}},
               {"required", {"text"}}};
  for (const char* name : {"search", "publish", "send_email"}) {
    auto run = [name, log = s.tool_log, hold_here = s.hold_tool == name](const json& args) {
      if (hold_here) {
        say(std::string{"tool "} + name + " holding");
        hold();
      }
      log_execution(log, name);
      return json{{"done", name}, {"text", args["text"]}};
    };
    auto added = r->add({name, std::string{"Does "} + name + ".", text, run,
                         std::string{name} != "search"});
    if (!added)
      throw std::runtime_error(added.error().message);
  }
  return r;
}

task<agent::agent_answer> agent_turn(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.system_prompt = "You announce a post. [sim: call search, publish, send_email; parallel 3]";
  spec.tools = {"search", "publish", "send_email"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

/// Prints the gateway's "waiting" events; holds on the first one if asked.
caf::behavior watcher(caf::event_based_actor*, bool hold_first) {
  auto held = std::make_shared<bool>(false);
  return {
    [=](atoms::gw_event, const std::string& kind, const std::string& id, const std::string&,
        const std::string& detail) {
      if (kind != "waiting")
        return;
      say("waiting " + id + " " + json::parse(detail).value("tool", "?"));
      if (hold_first && !*held) {
        *held = true;
        say("holding " + id);
        hold();  // on the only worker: nothing else of the runtime's actors runs
      }
    },
  };
}

std::optional<settings> parse(int argc, char** argv) {
  if (argc < 5)
    return std::nullopt;
  settings s;
  s.data = argv[1];
  s.base_url = argv[2];
  s.policy = argv[3];
  s.tool_log = argv[4];
  for (int i = 5; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--hold-first-request")
      s.hold_first_request = true;
    else if (a == "--hold-tool" && i + 1 < argc)
      s.hold_tool = argv[++i];
    else
      return std::nullopt;
  }
  return s;
}

int run(const settings& s) {
  auto policy = gateway::load_policy_file(s.policy);
  if (!policy) {
    std::cerr << "agent_child: " << policy.error().message << "\n";
    return 1;
  }
  net::llm_config config;
  config.base_url = s.base_url;
  config.model = "fake";
  config.api_key_env = "";
  config.request_timeout = 10s;
  runtime_options opts;
  opts.journal.data_dir = s.data;
  // sync (the default): each commit waits for the disk, which is what keeps
  // the next gate from overtaking the first request's event (see below).
  opts.llm = net::make_llm_backend(config);
  opts.tools = tools(s);
  opts.policy = std::make_shared<const gateway::policy>(std::move(*policy));
  opts.resume_on_open = false;  // resumed by start, once the watcher listens
  workflow_registry workflows;
  workflows.add("agent_turn", &agent_turn);
  caf::actor_system_config cfg;
  // One worker taking jobs first in, first out, and one message per turn of
  // an actor. The step that raises the first request tells the gateway (a
  // thread of its own) before it reports to the run; the run starts the
  // next gate only after a synced commit, so the watcher is almost always
  // queued before that turn of the run, and holding the worker holds the
  // run. If the gateway is late, the next gate raises its request but its
  // step is still not journaled: the kill still lands between two gates.
  cfg.set("scheduler.max-threads", size_t{1});
  cfg.set("scheduler.max-throughput", size_t{1});
  apply_recommended_settings(cfg);
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::cerr << "agent_child: " << rt.error().message << "\n";
    return 1;
  }
  struct stopped_at_end {  // the actor system waits for every actor it has
    caf::actor a;
    ~stopped_at_end() { caf::anon_send_exit(a, caf::exit_reason::user_shutdown); }
  } watch{sys.spawn(watcher, s.hold_first_request)};
  auto watching = (*rt)->subscribe_requests(watch.a);
  if (!watching) {
    std::cerr << "agent_child: " << watching.error().message << "\n";
    return 1;
  }
  auto started = (*rt)->start("agent_turn", "agent-run", std::string{"durable agents"});
  if (!started) {
    std::cerr << "agent_child: " << started.error().message << "\n";
    return 1;
  }
  auto out = (*rt)->wait("agent-run", 60s);
  if (!out || out->status != run_status::completed) {
    std::cerr << "agent_child: run did not complete: "
              << (out ? out->error : out.error().message) << "\n";
    return 1;
  }
  auto a = out->value<agent::agent_answer>();
  say("result: " + json{{"turns", a.turns}, {"tool_calls", a.tool_calls},
                        {"tools_called", a.tools_called}, {"rejected", a.rejected},
                        {"tool_errors", a.tool_errors}, {"text", a.text}}
                     .dump());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto s = parse(argc, argv);
  if (!s) {
    std::cerr << "usage: agent_child DATA_DIR BASE_URL POLICY TOOL_LOG "
                 "[--hold-first-request | --hold-tool NAME]\n";
    return 2;
  }
  return run(*s);
}
