#include "endure/actors/gateway/withdraw.hpp"

#include "endure/actors/detail/clock.hpp"
#include "endure/actors/gateway/detail/run_decision.hpp"

namespace endure::gateway {

bool withdraw(human_request& r, std::int64_t now_ms, const std::string& reason) {
  if (r.status != request_status::pending)
    return false;
  close_unanswered(r, now_ms, "withdrawn", reason);
  return true;
}

std::string withdrawn_reason(const std::string& run_id, std::optional<run_status> status) {
  if (!status)
    return "run " + run_id + " does not exist; nobody waits for a decision";
  return "run " + run_id + " " + std::string{to_string(*status)}
         + " before a decision; nobody waits for one any more";
}

bool withdraw_if_run_ended(const journal& store, human_request& r) {
  if (r.status != request_status::pending)
    return false;
  auto meta = store.run(r.run_id);
  bool ended = meta ? is_terminal(meta->status) : meta.error().code == errc::not_found;
  if (!ended)
    return false;
  auto now = ::endure::detail::now_ms();
  if (detail::take_run_outcome(store, r, now))
    return true;
  return withdraw(r, now, withdrawn_reason(r.run_id, meta ? std::optional{meta->status}
                                                          : std::nullopt));
}

std::optional<std::string> run_of_request(std::string_view id) {
  auto slash = id.rfind('/');
  if (slash == std::string_view::npos || slash == 0)
    return std::nullopt;
  return std::string{id.substr(0, slash)};
}

} // namespace endure::gateway
