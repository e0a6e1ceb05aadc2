// `endure --cluster FILE list|inspect`: the CLI as a client of a cluster.
// It loads the cluster file (its tls: files must be a certificate the
// cluster's CA signed; node: is ignored), connects to every node over TLS
// and asks their routers (net/cluster/cluster_node.hpp). A node that
// cannot be reached is named as away; the others still answer.
#pragma once

#include <optional>
#include <string>

#include "endure/persistence/run_meta.hpp"

namespace endure::cli {

struct command_env;

/// Every reachable node's runs, with a NODE column; exit 1 when some node
/// is away (after listing the others), 2 for a bad file.
int list_cluster_runs(const command_env& env, std::optional<run_status> status);

/// Where run `run_id` lives and its status, workflow and LLM usage, from
/// the node that has it (asked through any reachable node).
int inspect_cluster_run(const command_env& env, const std::string& run_id, bool json);

} // namespace endure::cli
