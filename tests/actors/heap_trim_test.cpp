// The run manager returns freed heap once per burst of stopped run actors,
// and returning it gives the memory back to the OS.
#include <catch2/catch.hpp>

#include <sstream>

#include "endure/actors/heap_trim.hpp"
#include "support/child_process.hpp"

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
}

TEST_CASE("releasing the free heap gives freed memory back to the OS", "[heap]") {
#if defined(ENDURE_SANITIZED)
  SUCCEED("not under a sanitizer: its allocator quarantines freed memory");
#else
  // A child linked like the `endure` CLI: jemalloc's arena purge when the
  // build links jemalloc, glibc's malloc_trim otherwise.
  auto [code, out] = endure::test::run_command({HEAP_RELEASE_CHILD_PATH},
                                               std::chrono::seconds(60));
  REQUIRE(code == 0);
  std::istringstream in{out};
  std::string allocator, before_key, after_key;
  long before = 0, after = 0;
  in >> allocator >> before_key >> before >> after_key >> after;
  INFO(out);
  REQUIRE(before_key == "before_kib");
  CHECK(before > 100 * 1024);     // ~150 MiB were written, 1.5 MiB are still live
  CHECK(after < before / 2);
#endif
}
