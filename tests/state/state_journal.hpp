// The state tests' journal: a real LMDB file (nosync: the tests reopen it,
// they do not pull the power), with the workflow events' record types.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "endure/actors/events.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::test {

inline std::unique_ptr<journal> open_state_journal(const std::string& dir) {
  auto j = journal::open({.data_dir = dir, .mode = durability::nosync});
  REQUIRE(j);
  register_event_types((*j)->types());
  return std::move(*j);
}

} // namespace endure::test
