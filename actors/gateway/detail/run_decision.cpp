// The run's decision on a request, and the row corrected to it
// (run_decision.hpp).
#include "endure/actors/gateway/detail/run_decision.hpp"

#include <algorithm>
#include <vector>

#include "endure/actors/detail/clock.hpp"
#include "endure/actors/gateway/decision.hpp"
#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/actors/gateway/joined_names.hpp"
#include "endure/actors/journaled_signal.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/persistence/log.hpp"

namespace endure::gateway::detail {

namespace {

std::string who(const request_outcome& o) {
  auto out = joined_names(o.principals);
  return out.empty() ? "nobody" : out;
}

std::string described(const request_outcome& o) {
  return std::string{to_string(o.what)} + " by " + who(o);
}

/// The same decision: who, what and when (the payload's bytes are the same
/// after the row's round trip today; a re-encoding must not read as
/// another decision).
bool same_decision(const request_outcome& a, const request_outcome& b) {
  return a.what == b.what && a.principals == b.principals && a.at_ms == b.at_ms;
}

/// A journal error no later read will get past: a damaged record, or one
/// this build cannot read.
bool unreadable_for_good(errc code) {
  return code == errc::corrupt_record || code == errc::unknown_record_type
         || code == errc::newer_record_version;
}

/// Makes `r` name `taken`, the run's, as its outcome, decided and
/// delivered; the one it named before stays in the audit trail, followed by
/// a system entry (`corrected`) that says it was not applied, and its
/// approvals are those of the run's decision, or (another decision) those
/// audited before it was made. False (only marked delivered) when
/// `r` names that decision already (who, what and when).
bool name_run_outcome(human_request& r, const request_outcome& taken, std::int64_t now_ms) {
  if (r.outcome && same_decision(*r.outcome, taken)) {
    r.delivered = true;
    return false;
  }
  std::string was = r.outcome ? "; " + described(*r.outcome) + " was not applied"
                              : std::string{"; the row was still pending"};
  r.audit.push_back({now_ms, "", "system", "corrected",
                     "run " + r.run_id + " had journaled " + described(taken)
                       + " (handed to it before the gateway restarted)" + was});
  // The approvals stand as they were when the run's decision was made:
  // one audited after it was not applied.
  if (taken.what == decision::approve) {
    r.approved_by = taken.principals;
  } else {
    std::erase_if(r.approved_by, [&](const std::string& p) {
      return std::any_of(r.audit.begin(), r.audit.end(), [&](const audit_entry& e) {
        return e.principal == p && e.action == "approve" && e.at_ms > taken.at_ms;
      });
    });
  }
  r.outcome = taken;
  r.status = request_status::decided;
  r.delivered = true;
  return true;
}

} // namespace

expected<std::optional<request_outcome>> journaled_outcome(const journal& store,
                                                           const human_request& r) {
  auto signal = journaled_signal(store, r.run_id, delivery_id(r.id));
  if (!signal)
    return std::move(signal).error();
  if (!*signal)
    return std::optional<request_outcome>{};
  auto undecodable = [&](const std::string& why) {
    return make_error(errc::corrupt_record, "run " + r.run_id + ": the decision it journaled on "
                                              "request " + r.id + " does not decode (" + why
                                              + ")");
  };
  try {
    auto outcome = parse_outcome(from_bytes<std::string>((*signal)->payload));
    if (!outcome)
      return undecodable(outcome.error().message);
    return std::optional<request_outcome>{std::move(*outcome)};
  } catch (const std::exception& e) {
    return undecodable(e.what());
  }
}


bool take_run_outcome(const journal& store, human_request& r, std::int64_t now_ms) {
  if (r.status != request_status::pending)
    return false;
  auto taken = journaled_outcome(store, r);
  if (!taken) {
    log::error("request " + r.id + ": cannot read whether run " + r.run_id + " took a decision "
               "on it (" + taken.error().to_string() + "); it is withdrawn");
    return false;
  }
  return *taken && name_run_outcome(r, **taken, now_ms);
}

corrected_row correct_to_run(journal& store, const std::string& id, bool run_ended) {
  auto r = load_request(store, id);
  if (!r) {
    log::error("request " + id + ": its run refused its decision, and the row cannot be read ("
               + r.error().to_string() + ")");
    bool gone = r.error().code == errc::not_found || r.error().code == errc::corrupt_record;
    return {gone ? correction::none_taken : correction::later, {}};
  }
  // Whether the run's end is durable, read before its log: a decision it
  // took commits with or before its end, so a log read after an end seen
  // holds it (read the other way round, the end could land in between).
  auto meta = store.run(r->run_id);
  bool over = meta ? is_terminal(meta->status) : meta.error().code == errc::not_found;
  auto taken = journaled_outcome(store, *r);
  if (!taken) {
    log::error("request " + id + ": cannot read which decision run " + r->run_id + " took ("
               + taken.error().to_string() + ")");
    bool never = unreadable_for_good(taken.error().code);
    return {never ? correction::none_taken : correction::later, {}};
  }
  if (!*taken) {
    // A run that took one is still committing it. One that has ended took
    // none, once its end is durable.
    return {run_ended && over ? correction::none_taken : correction::later, {}};
  }
  auto before = keys_of(*r);
  if (!name_run_outcome(*r, **taken, ::endure::detail::now_ms()))
    return {correction::unchanged, {}};
  if (auto ok = store_request(store, before, *r); !ok) {
    log::error("request " + id + ": run " + r->run_id + " acted on another decision than its "
               "row names, and correcting the row failed (" + ok.error().to_string() + ")");
    return {correction::later, {}};
  }
  log::warn("request " + id + ": run " + r->run_id + " had taken an earlier decision; the row "
            "names it now (" + r->audit.back().outcome + ")");
  return {correction::corrected, std::move(*r)};
}

} // namespace endure::gateway::detail
