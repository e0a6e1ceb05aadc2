// What a journal_child "append" process acknowledged: the highest seq per
// run it printed ("RUN SEQ" lines). The crash tests kill it and check that
// every acknowledged record survived.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/child_process.hpp"

namespace endure::test {

using acked_map = std::map<std::string, std::uint64_t>;

/// Reads `count` acknowledgements from `child` into `acked`.
inline void read_acks(child_process& child, unsigned count, acked_map& acked) {
  using namespace std::chrono_literals;
  for (unsigned n = 0; n < count; ++n) {
    auto line = child.read_line(10s);
    REQUIRE(line);
    std::istringstream in{*line};
    std::string run;
    std::uint64_t seq = 0;
    in >> run >> seq;
    acked[run] = std::max(acked[run], seq);
  }
}

/// Every record acknowledged is in `j`, each run's records in order from
/// seq 1, each intact (no partial record, no hole).
inline void verify_acked(journal& j, const acked_map& acked) {
  for (auto& [run, max_acked] : acked) {
    auto recs = j.read(run);
    REQUIRE(recs);
    REQUIRE(recs->size() >= max_acked);
    for (std::size_t i = 0; i < recs->size(); ++i) {
      REQUIRE((*recs)[i].seq == i + 1);
      REQUIRE((*recs)[i].rec == test_record(run, i + 1));
    }
  }
}

} // namespace endure::test
