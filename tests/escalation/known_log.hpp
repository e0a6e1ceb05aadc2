// tests/escalation/known_log.jsonl, the small log whose reference values
// tests/escalation/reference_values.py computes (pure Python, textbook
// definitions): 20 records, 8 errors, tied scores (0.8 three times, 0.5
// three times, 0.2 twice), t out of file order twice, one blank line.
#pragma once

#include <vector>

#include <catch2/catch.hpp>

#include "endure/actors/escalation/decision_log.hpp"
#include "endure/actors/escalation/metrics.hpp"

inline std::vector<endure::escalation::decision_record> known_log() {
  auto got = endure::escalation::read_decision_log(ESCALATION_KNOWN_LOG);
  REQUIRE(got);
  REQUIRE(got->size() == 20);
  return std::move(*got);
}

template <class F>
std::vector<endure::escalation::scored> known_cases(F score_of) {
  std::vector<endure::escalation::scored> out;
  for (auto& r : known_log())
    out.push_back({score_of(r), r.error});
  return out;
}
