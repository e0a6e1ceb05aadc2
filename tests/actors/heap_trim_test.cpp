// The run manager returns freed heap once per burst of stopped run actors.
#include <catch2/catch.hpp>

#include "actors/heap_trim.hpp"

using endure::heap_trim_schedule;

TEST_CASE("a heap trim is scheduled once per burst of stops", "[heap]") {
  heap_trim_schedule s{3};
  CHECK_FALSE(s.on_stop());
  CHECK_FALSE(s.on_stop());
  CHECK(s.on_stop());  // the third stop schedules one
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(s.on_stop());  // the rest of the burst rides on it
  s.on_trimmed();
  CHECK_FALSE(s.on_stop());
  CHECK_FALSE(s.on_stop());
  CHECK(s.on_stop());

  heap_trim_schedule never{0};
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(never.on_stop());
  endure::release_free_heap();  // safe to call any time, from any thread
}
