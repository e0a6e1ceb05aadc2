// A request row read back from the journal for a test to look at (fails the
// test when it is missing or does not decode).
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::test {

inline gateway::human_request request_row(const journal& store, const std::string& id) {
  auto row = store.row(side_table::requests, id);
  REQUIRE(row);
  REQUIRE(row->has_value());
  auto r = gateway::from_record(**row, id);
  REQUIRE(r);
  return *r;
}

} // namespace endure::test
