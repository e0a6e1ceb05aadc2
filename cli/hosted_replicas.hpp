// The replicas a serve's node took over (replication mode takeover,
// net/cluster/replication/): each runs in a runtime of its own on its
// directory (DATA_DIR/replicas/NAME) with the serve's workflows and
// options, inside the serve's actor system, until the serve stops.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor.hpp>

#include "endure/actors/runtime.hpp"
#include "endure/persistence/error.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::cli {

class hosted_replicas {
public:
  /// `options(dir)`: the options of a runtime on replica directory `dir`.
  hosted_replicas(caf::actor_system& sys, workflow_registry workflows,
                  std::function<runtime_options(const std::string& dir)> options);
  /// close().
  ~hosted_replicas();

  /// Opens a runtime on node `primary`'s replica in `dir` (resuming its
  /// unfinished runs) and answers its handle; the same handle when it is
  /// open already. One thread at a time (the replica keeper's); add_runs
  /// and close meanwhile from any. Errors: the runtime's (a damaged replica),
  /// shut_down after close().
  expected<caf::actor> open(const std::string& primary, const std::string& dir);
  /// This node's runs and those of every replica it runs (for the cluster's
  /// listing of this node).
  expected<run_listing> add_runs(expected<run_listing> own) const;
  /// Closes every runtime (before the actor system ends); open() fails
  /// from then on.
  void close();

private:
  caf::actor_system& sys_;
  workflow_registry workflows_;
  std::function<runtime_options(const std::string&)> options_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::map<std::string, std::unique_ptr<runtime>> runtimes_;
};

} // namespace endure::cli
