// Correcting a request's row to the decision its run journaled
// (actors/gateway/detail/run_decision.hpp), on a real LMDB journal written
// as a run and the gateway leave it: the row names bob's decision while the
// run's log holds ann's (a gateway restarted between the two), the run's
// commit still in flight, a run that ended without one, a damaged signal.
#include <catch2/catch.hpp>

#include "gateway/request_row.hpp"

#include "endure/actors/events.hpp"
#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/actors/gateway/detail/run_decision.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/gateway/withdraw.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/persistence/journal.hpp"
#include "gateway/index_check.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using gateway::decision;
using gateway::detail::correction;

namespace {

constexpr const char* request_id = "r1/0";

struct fixture {
  temp_dir dir;
  std::unique_ptr<journal> store;

  fixture() {
    auto j = journal::open({.data_dir = dir.path()});
    REQUIRE(j);
    store = std::move(*j);
    register_event_types(store->types());
    write_batch b;
    b.create_run({"r1", "publishes", run_status::waiting, 1, 1, {}});
    b.append("r1", 1, encode_event(run_started_event{"publishes", to_bytes(0), 1}));
    REQUIRE(store->commit(std::move(b)));
  }

  /// Stores the row of a 2-of-3 approval that `outcome` decided (nullopt:
  /// pending), undelivered, approved by `approvals`, its audit trail
  /// `audit` and then the outcome's entry.
  void store_row(std::optional<gateway::request_outcome> outcome,
                 std::vector<std::string> approvals, std::vector<gateway::audit_entry> audit = {}) {
    gateway::human_request r;
    r.id = request_id;
    r.run_id = "r1";
    r.tool = "publish";
    r.arguments = {{"title", "t"}};
    r.rule = {{"quorum", 2}};
    r.created_ms = 1;
    r.approved_by = std::move(approvals);
    r.audit = std::move(audit);
    if (outcome) {
      r.status = gateway::request_status::decided;
      r.audit.push_back({outcome->at_ms, outcome->principals.back(), "c++",
                         std::string{to_string(outcome->what)}, "accepted"});
    }
    r.outcome = std::move(outcome);
    auto before = load_before();
    REQUIRE(gateway::detail::store_request(*store, before, r));
  }

  gateway::index_keys load_before() {
    auto row = store->row(side_table::requests, request_id);
    REQUIRE(row);
    if (!*row)
      return {};
    auto r = gateway::from_record(**row, request_id);
    REQUIRE(r);
    return gateway::keys_of(*r);
  }

  /// Journals `payload` as the run's decision signal on the request.
  void journal_signal(std::string payload) {
    write_batch b;
    b.append("r1", 2, encode_event(signal_received_event{gateway::decision_signal(request_id),
                                                         std::move(payload), 5,
                                                         gateway::delivery_id(request_id)}));
    REQUIRE(store->commit(std::move(b)));
  }

  void end_run() {
    write_batch b;
    b.set_status("r1", run_status::completed, {}, 9);
    REQUIRE(store->commit(std::move(b)));
  }
};

gateway::request_outcome decided(decision what, std::vector<std::string> by, std::int64_t at) {
  return {what, std::move(by), at, "c++", {}, {}, what == decision::reject ? "no" : ""};
}

std::string payload_of(const gateway::request_outcome& o) {
  return to_bytes(gateway::outcome_payload(o));
}

} // namespace

SCENARIO("a row naming another decision than its run journaled is corrected to the run's",
         "[gate][correction]") {
  fixture f;
  auto anns = decided(decision::reject, {"ann"}, 3);   // what the run took
  auto bobs = decided(decision::approve, {"cat", "bob"}, 4);  // what the row says
  f.store_row(bobs, {"cat", "bob"}, {{2, "cat", "c++", "approve", "counted 1 of 2"}});
  f.journal_signal(payload_of(anns));
  auto ended = GENERATE(false, true);
  if (ended)
    f.end_run();
  auto c = gateway::detail::correct_to_run(*f.store, request_id, ended);
  REQUIRE(c.what == correction::corrected);
  auto row = request_row(*f.store, request_id);
  CHECK(row == c.row);
  REQUIRE(row.outcome);
  CHECK(*row.outcome == anns);
  CHECK(row.delivered);
  CHECK(row.status == gateway::request_status::decided);
  // bob's approval, made after ann's decision, was not applied; cat's,
  // counted before it, stays.
  CHECK(row.approved_by == std::vector<std::string>{"cat"});
  REQUIRE(row.audit.size() == 3);
  CHECK(row.audit[1].principal == "bob");
  CHECK(row.audit[2].action == "corrected");
  CHECK(row.audit[2].outcome.find("reject by ann") != std::string::npos);
  CHECK(row.audit[2].outcome.find("approve by cat, bob was not applied") != std::string::npos);
  CHECK(index_problems(*f.store, false).empty());
  // Asked again, there is nothing left to correct.
  auto again = gateway::detail::correct_to_run(*f.store, request_id, ended);
  CHECK(again.what == correction::unchanged);
  CHECK(request_row(*f.store, request_id) == row);
}

SCENARIO("an approval counted after the run's decision is not applied", "[gate][correction]") {
  // dave's approval counted (1 of 2) after the restart, then bob rejects;
  // the run had taken ann's reject before either.
  fixture f;
  f.store_row(decided(decision::reject, {"bob"}, 6), {"cat", "dave"},
              {{2, "cat", "c++", "approve", "counted 1 of 2"},
               {5, "dave", "c++", "approve", "counted 2 of 3"}});
  f.journal_signal(payload_of(decided(decision::reject, {"ann"}, 3)));
  REQUIRE(gateway::detail::correct_to_run(*f.store, request_id, false).what
          == correction::corrected);
  CHECK(request_row(*f.store, request_id).approved_by == std::vector<std::string>{"cat"});
}

SCENARIO("a run's approval corrects the approvals too", "[gate][correction]") {
  fixture f;
  auto anns = decided(decision::approve, {"cat", "ann"}, 3);
  f.store_row(decided(decision::reject, {"bob"}, 4), {"cat"});
  f.journal_signal(payload_of(anns));
  auto c = gateway::detail::correct_to_run(*f.store, request_id, false);
  REQUIRE(c.what == correction::corrected);
  CHECK(request_row(*f.store, request_id).approved_by == std::vector<std::string>{"cat", "ann"});
}

SCENARIO("a row naming the run's own decision is left as it is", "[gate][correction]") {
  fixture f;
  auto anns = decided(decision::reject, {"ann"}, 3);
  f.store_row(anns, {});
  // The same decision in bytes other than the row's payload would give.
  auto other_bytes = gateway::outcome_payload(anns) + " ";
  f.journal_signal(to_bytes(other_bytes));
  auto before = request_row(*f.store, request_id);
  auto c = gateway::detail::correct_to_run(*f.store, request_id, false);
  CHECK(c.what == correction::unchanged);
  CHECK(request_row(*f.store, request_id) == before);
}

SCENARIO("no decision in the run's log is not known yet until the run's end is durable",
         "[gate][correction]") {
  fixture f;
  f.store_row(decided(decision::approve, {"cat", "bob"}, 4), {"cat", "bob"});
  auto before = request_row(*f.store, request_id);
  // It refused as one that took another: its commit of it is in flight.
  CHECK(gateway::detail::correct_to_run(*f.store, request_id, false).what == correction::later);
  // It said it had ended, but its status is not terminal yet: the commit
  // ending it (with the decision it took) may be in flight.
  CHECK(gateway::detail::correct_to_run(*f.store, request_id, true).what == correction::later);
  f.end_run();
  CHECK(gateway::detail::correct_to_run(*f.store, request_id, true).what
        == correction::none_taken);
  CHECK(request_row(*f.store, request_id) == before);
}

SCENARIO("a decision signal that does not decode leaves the row as it is", "[gate][correction]") {
  fixture f;
  f.store_row(decided(decision::approve, {"cat", "bob"}, 4), {"cat", "bob"});
  auto before = request_row(*f.store, request_id);
  f.journal_signal(to_bytes(std::string{"{not json"}));
  CHECK(gateway::detail::correct_to_run(*f.store, request_id, false).what
        == correction::none_taken);
  CHECK(request_row(*f.store, request_id) == before);
}

SCENARIO("a request whose row is gone has nothing to correct", "[gate][correction]") {
  fixture f;
  CHECK(gateway::detail::correct_to_run(*f.store, request_id, true).what
        == correction::none_taken);
}

SCENARIO("a pending request of a run that ended having taken a decision names it, not withdrawn",
         "[gate][correction]") {
  // The run's own store of the row was skipped: the row had changed (a
  // reminder, an attempt audited) since the decision was handed to it.
  fixture f;
  auto anns = decided(decision::reject, {"ann"}, 3);
  f.store_row(std::nullopt, {});
  auto took = GENERATE(true, false);
  if (took)
    f.journal_signal(payload_of(anns));
  f.end_run();
  auto r = request_row(*f.store, request_id);
  REQUIRE(gateway::withdraw_if_run_ended(*f.store, r));
  REQUIRE(r.outcome);
  if (took) {
    CHECK(r.status == gateway::request_status::decided);
    CHECK(*r.outcome == anns);
    CHECK(r.audit.back().action == "corrected");
    CHECK(r.audit.back().outcome.find("still pending") != std::string::npos);
  } else {
    CHECK(r.status == gateway::request_status::expired);
    CHECK(r.audit.back().action == "withdrawn");
  }
  CHECK(r.delivered);
}
