// A commit sink: where a journal hands every committed write batch, in
// commit order, before it acknowledges it (the cluster's replication to a
// standby, net/cluster/replication/).
//
// With a sink in journal_options::sink, the writer calls committed() once
// per durable group commit, on the writer thread, with the batches that
// committed (in commit order) and their completions; a batch that failed is
// completed at once with its error and never reaches the sink. The sink
// owns the completions from then on: it must call each exactly once (with
// success once the batch is as durable as it promises, e.g. received by a
// standby), on any thread, and may call them later than the writer would
// have. committed() must be quick (hand off to another thread) and must not
// call the journal.
#pragma once

#include <functional>
#include <vector>

#include "endure/persistence/error.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure {

class commit_sink {
public:
  using completion = std::function<void(const expected<void>&)>;
  virtual ~commit_sink() = default;
  /// One durable group commit: `batches[i]` completes with `done[i]`.
  virtual void committed(std::vector<write_batch> batches, std::vector<completion> done) = 0;
};

} // namespace endure
