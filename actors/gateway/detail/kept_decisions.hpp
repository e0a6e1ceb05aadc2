// Decisions the human gateway handed a run that neither the run nor the
// gateway could journal in time (decision_delivery.cpp, store_decided). The
// run may still journal one, so it is the request's decision: kept here,
// stored before anything else acts on its request, and stored again until
// the journal takes it. Lost with the gateway actor (its README says what
// that means). Gateway thread only. Internal.
#pragma once

#include <map>
#include <string>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::gateway::detail {

class kept_decisions {
public:
  /// Keeps `decided` (undelivered), made on the row `as_stored` whose
  /// index entries were `before`.
  void keep(index_keys before, record as_stored, human_request decided);

  /// The kept decision on request `id`, or nullptr.
  const human_request* find(const std::string& id) const;

  enum class outcome {
    none_kept,      ///< nothing kept for the request
    refused,        ///< the journal still refuses it: still kept
    dropped,        ///< a row stored since stands (the run's commit of
                    ///< another decision, a withdrawal), or the row is gone
                    ///< or damaged: no longer kept
    stored,         ///< the row carries it now: `row`, to announce and deliver
    stored_unread,  ///< stored, but the row could not be read back
  };
  struct settled {
    outcome what = outcome::none_kept;
    human_request row;
  };

  /// Stores the decision kept on `id`, if any, only over the row it was
  /// made on (should the run's commit of it land first, that row stands and
  /// the entries this store added to the index are erased again).
  settled settle(journal& store, const std::string& id);

private:
  struct kept {
    index_keys before;
    record as_stored;
    human_request decided;
  };
  std::map<std::string, kept> kept_;
};

} // namespace endure::gateway::detail
