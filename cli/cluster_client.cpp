// The CLI's cluster client (cluster_client.hpp).
#include "endure/cli/cluster_client.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "endure/actors/service/protocol.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/net/cluster/cluster_node.hpp"

namespace endure::cli {

namespace {

using namespace std::chrono_literals;
namespace svc = endure::service;

/// A request's answer within 30 s, or the endure error it failed with.
template <class T, class... Ts>
expected<T> ask(caf::actor_system& sys, const caf::actor& to, std::string_view what,
                Ts&&... xs) {
  caf::scoped_actor self{sys};
  expected<T> out = make_error(errc::timeout, std::string{what} + ": no answer");
  self->request(to, 30s, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& e) { out = svc::error_of(e, what); });
  return out;
}

/// The cluster file and an actor system with its TLS files, or the exit
/// code after saying why not.
struct cluster_session {
  cluster::cluster_config config;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
};

expected<cluster_session> open_session(const command_env& env) {
  auto c = cluster::load_cluster_config(env.globals.cluster_file);
  if (!c)
    return std::move(c).error();
  cluster_session s;
  s.config = std::move(*c);
  s.cfg = std::make_unique<caf::actor_system_config>();
  cluster::prepare_actor_system(*s.cfg, s.config);
  s.sys = std::make_unique<caf::actor_system>(*s.cfg);
  return s;
}

} // namespace

int list_cluster_runs(const command_env& env, std::optional<run_status> status) {
  auto s = open_session(env);
  if (!s) {
    fail(s.error().message);
    return 2;
  }
  struct row {
    std::string node;
    run_meta meta;
  };
  std::vector<row> rows;
  std::vector<std::pair<std::string, std::string>> unreached;  // node, why
  caf::actor reached;
  for (auto& n : s->config.nodes) {
    auto router = cluster::connect(*s->sys, n);
    auto runs = router ? ask<std::vector<run_meta>>(*s->sys, *router, "list " + n.name,
                                                   cluster::list_atom::value)
                       : expected<std::vector<run_meta>>{router.error()};
    if (!runs) {
      unreached.emplace_back(n.name, runs.error().message);
      continue;
    }
    reached = *router;
    for (auto& m : *runs)
      if (!status || m.status == *status)
        rows.push_back({n.name, std::move(m)});
  }
  // A node taken over (replication mode takeover) is listed by the node
  // that runs its runs now: not away.
  std::vector<std::string> nodes;
  if (!unreached.empty() && reached)
    if (auto said = ask<std::vector<std::string>>(*s->sys, reached, "list the nodes",
                                                  cluster::nodes_atom::value))
      nodes = std::move(*said);
  int away = 0;
  for (auto& [name, why] : unreached) {
    auto line = std::find_if(nodes.begin(), nodes.end(), [&name](const std::string& l) {
      return l.rfind(name + " up (taken over by ", 0) == 0;
    });
    if (line != nodes.end()) {
      std::cerr << "endure: node " << *line << ": its runs are listed under that node\n";
      continue;
    }
    std::cerr << "endure: node " << name << " is away: " << why << "\n";
    ++away;
  }
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.meta.id < b.meta.id; });
  int width = 4, node_width = 4;
  for (auto& r : rows) {
    width = std::max(width, static_cast<int>(r.meta.id.size()));
    node_width = std::max(node_width, static_cast<int>(r.node.size()));
  }
  std::printf("%-*s %-*s %-12s %-20s %s\n", width, "RUN", node_width, "NODE", "STATUS",
              "WORKFLOW", "AGE");
  auto now = now_ms();
  for (auto& r : rows)
    std::printf("%-*s %-*s %-12s %-20s %s\n", width, r.meta.id.c_str(), node_width,
                r.node.c_str(), std::string{to_string(r.meta.status)}.c_str(),
                r.meta.workflow.c_str(), format_duration_ms(now - r.meta.created_at_ms).c_str());
  std::fflush(stdout);
  return away == 0 ? 0 : 1;
}

int inspect_cluster_run(const command_env& env, const std::string& run_id, bool json) {
  auto s = open_session(env);
  if (!s) {
    fail(s.error().message);
    return 2;
  }
  caf::actor router;
  std::string tried;
  for (auto& n : s->config.nodes) {
    auto r = cluster::connect(*s->sys, n);
    if (r) {
      router = *r;
      break;
    }
    tried += "\n  " + r.error().message;
  }
  if (!router)
    return fail("no node of the cluster can be reached:" + tried);
  auto node = ask<std::string>(*s->sys, router, "find run " + run_id, cluster::where_atom::value,
                               run_id);
  if (!node)
    return fail(node.error().message);
  auto meta = ask<run_meta>(*s->sys, router, "status of run " + run_id,
                            svc::status_atom::value, run_id);
  auto usage = ask<run_usage>(*s->sys, router, "usage of run " + run_id, svc::usage_atom::value,
                              run_id);
  if (!meta)
    return fail(meta.error().message);
  if (json) {
    nlohmann::json out{{"run", meta->id},           {"node", *node},
                       {"status", to_string(meta->status)}, {"workflow", meta->workflow},
                       {"detail", meta->detail},    {"created_at_ms", meta->created_at_ms},
                       {"updated_at_ms", meta->updated_at_ms}};
    if (usage)
      out["usage"] = {{"prompt_tokens", usage->prompt_tokens},
                      {"completion_tokens", usage->completion_tokens},
                      {"cost_usd", usage->cost_usd}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "run " << meta->id << " on node " << *node << ": " << to_string(meta->status)
            << " (workflow " << meta->workflow << ")\n";
  if (!meta->detail.empty())
    std::cout << "  " << meta->detail << "\n";
  if (usage)
    std::cout << "  LLM usage: " << usage->prompt_tokens << " prompt + "
              << usage->completion_tokens << " completion tokens, $" << usage->cost_usd << "\n";
  std::cout << "  the whole timeline: endure --data DIR inspect " << run_id << " on node "
            << *node << "\n";
  return 0;
}

} // namespace endure::cli
