// Journal replication to a standby node (cluster_config::replication).
//
// With mode standby, every node streams its journal to its standby (the
// next node in the cluster file) as an ordered stream of committed write
// batches, and keeps the replicas of the nodes whose standby it is in
// DATA_DIR/replicas/NAME. A commit (a step's result, a status, a row) is
// acknowledged to the workflow once it is durable on the owner and applied
// to the standby's replica; while the standby is away, a commit waits up to
// replication_config::wait for it and is then acknowledged on the owner
// alone. A standby that returns, or an owner that restarted, is caught up
// by a compacted copy of the owner's journal, then the stream again.
//
// Use, in this order:
//   auto repl = replication::start(sys, cluster, journal_opts);   // null: off
//   journal_opts.sink = repl->sink();        // before the runtime opens it
//   ... runtime::open ...; repl->attach(rt.store());
//   cluster_node::start(..., repl.get());     // the router tells it of the standby
//   ... repl->stop() before the runtime closes its journal.
//
// Mode takeover (replication_config::takeover): see cluster_config.hpp. The
// standby's router asks the keeper to take a primary over, which opens a
// runtime on the replica with what run_replicas_with gave it; those
// runtimes must close before the actor system ends.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "endure/net/cluster/cluster_config.hpp"
#include "endure/net/cluster/replication/replica_keeper.hpp"
#include "endure/persistence/commit_sink.hpp"
#include "endure/persistence/options.hpp"

namespace endure {
class journal;
}

namespace endure::cluster {

class replication {
public:
  /// The source (this node's stream) and the keeper (the replicas it
  /// holds) for node cfg.self, whose journal `node_journal` describes.
  /// Null when cfg.replication is off.
  static std::unique_ptr<replication> start(caf::actor_system& sys, const cluster_config& cfg,
                                            const journal_options& node_journal);
  /// stop().
  ~replication();
  replication(const replication&) = delete;
  replication& operator=(const replication&) = delete;

  /// Goes in journal_options::sink of this node's journal.
  std::shared_ptr<commit_sink> sink() const { return sink_; }
  /// The journal the sink's commits come from, once open (for copies). It
  /// must outlive stop().
  void attach(const journal& store) const;
  /// Stops the source and the keeper and waits for them. Batches committed
  /// later are acknowledged on this node alone.
  void stop();

  /// Mode takeover: how this node runs a replica it takes over (see
  /// open_runtime_fn in replica_keeper.hpp); until it is given, this node
  /// takes nobody over. Replicas taken over by an earlier process of this
  /// node run again once it is given.
  void run_replicas_with(open_runtime_fn open) const;
  /// Mode takeover: why this node is fenced (its standby took it over:
  /// every commit fails from then on, and the process should stop); empty
  /// while it is not. Any thread.
  std::string fenced() const;

  const caf::actor& source() const noexcept { return source_; }
  const caf::actor& keeper() const noexcept { return keeper_; }

private:
  replication() = default;
  caf::actor source_;
  caf::actor keeper_;
  std::shared_ptr<commit_sink> sink_;
  struct fence_note;
  std::shared_ptr<fence_note> fenced_;
};

/// DATA_DIR/replicas/NAME: where a standby keeps node NAME's replica.
std::string replica_dir(const std::string& data_dir, const std::string& primary);

} // namespace endure::cluster
