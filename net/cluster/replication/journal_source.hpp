// The owner's side of replication: a commit sink (persistence/
// commit_sink.hpp) that streams every committed batch of this node's
// journal to its standby's replica_keeper and completes each batch once
// the standby applied it, or once the standby has been away for
// replication_config::wait (then on this node alone). Internal.
//
// Phases: away (no standby connection) -> attaching (asked its keeper
// where its replica stands) -> copying (sending a journal copy when the
// replica cannot continue this epoch's stream) -> streaming. Batches not
// yet applied by the standby stay in memory, bounded in every phase: at
// most max_buffer_bytes sent and not yet acknowledged (a connected standby
// that stops reading would otherwise grow the connection's buffers without
// end), and max_buffer_bytes more held back; past that the held batches
// are dropped, commits are acknowledged here alone, and the standby gets
// a copy of the journal instead (in mode takeover the commits keep
// waiting instead).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "endure/net/cluster/cluster_config.hpp"
#include "endure/persistence/commit_sink.hpp"

namespace endure {
class journal;
}

namespace endure::cluster {

struct journal_source_options {
  std::string self;     ///< this node
  std::string standby;  ///< the node its journal streams to
  std::chrono::milliseconds wait{2000};
  /// Where copies of the journal are written before they are sent.
  std::string copy_dir;
  /// Bytes of batches sent and not yet acknowledged at most, and of
  /// batches held back at most (see the top).
  std::size_t max_buffer_bytes = std::size_t{256} << 20;
  /// Mode takeover: no commit is ever acknowledged here alone (past the
  /// buffer cap the held commits keep waiting for the copy), the sink is a
  /// fencing_sink, and a standby that took this node over is answered by
  /// failing every commit and calling on_fenced(why) once, on the source's
  /// thread.
  bool takeover = false;
  std::function<void(const std::string&)> on_fenced;
};

struct journal_source {
  caf::actor actor;  ///< detached: its thread never waits on the scheduler
  std::shared_ptr<commit_sink> sink;
};

journal_source spawn_journal_source(caf::actor_system& sys, journal_source_options opts);

/// Gives the source the journal it copies from (once it is open).
void attach_journal(const caf::actor& source, const journal& store);

} // namespace endure::cluster
