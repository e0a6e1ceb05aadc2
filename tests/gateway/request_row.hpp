// A request row read back from the journal for a test to look at (fails the
// test when it is missing or does not decode).
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/journal.hpp"
#include "support/eventually.hpp"

namespace endure::test {

inline gateway::human_request request_row(const journal& store, const std::string& id) {
  auto row = store.row(side_table::requests, id);
  REQUIRE(row);
  REQUIRE(row->has_value());
  auto r = gateway::from_record(**row, id);
  REQUIRE(r);
  return *r;
}

/// The id of run `run`'s pending request, once it is raised (waits at most
/// 10 s; fails the test otherwise).
inline std::string pending_request_of(const journal& store, const std::string& run) {
  std::string id;
  REQUIRE(eventually([&] {
    auto page = store.rows(side_table::requests, run + "/", "", 10);
    if (!page)
      return false;
    for (auto& row : page->rows) {
      auto r = gateway::from_record(row.rec, row.key);
      if (r && r->status == gateway::request_status::pending)
        id = r->id;
    }
    return !id.empty();
  }));
  return id;
}

} // namespace endure::test
