// The human gateway's withdrawals in the journal (actors/gateway/withdraw.hpp
// says what a withdrawal is): the pending requests of one run that ended,
// and a pass over the pending index for runs that ended unheard. Blocking
// journal calls, made on the gateway's own (detached) thread, so they are
// serialised with decisions and deadlines. Internal.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::gateway::detail {

/// Withdraws every pending request of run `run_id` (rows "RUN/..."), which
/// ended with `status`, in one commit; returns the withdrawn rows (for the
/// subscribers' events). Errors: the journal's (nothing is written).
expected<std::vector<human_request>> withdraw_run_requests(journal& store,
                                                           const std::string& run_id,
                                                           run_status status);

/// One page of the start's pass: up to `limit` pending index entries after
/// key `after` ("" from the oldest); withdraws the requests whose run has
/// ended (or does not exist), and erases those runs' entries whose row is
/// gone or no longer pending, in one commit.
struct sweep_page {
  std::vector<human_request> withdrawn;
  std::string last_key;  ///< where the next page starts
  bool done = false;     ///< no pending entries after this page
};
expected<sweep_page> withdraw_ended_page(journal& store, const std::string& after,
                                         std::size_t limit);

} // namespace endure::gateway::detail
