// The data directory lock: a second writer, in another process or this one,
// gets a clear error naming the directory and the holder; SIGKILL of the
// holder releases it.
#include <catch2/catch.hpp>

#include "endure/persistence/journal.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

SCENARIO("a second process cannot open a held data directory", "[lock]") {
  temp_dir dir;
  child_process holder{{JOURNAL_CHILD_PATH, "hold", dir.path()}};
  REQUIRE(holder.read_line(10s) == std::optional<std::string>{"held"});

  auto second = journal::open({.data_dir = dir.path()});
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::data_dir_locked);
  CHECK_THAT(second.error().message, Catch::Contains(dir.path()));
  CHECK_THAT(second.error().message,
             Catch::Contains("process " + std::to_string(holder.pid())));

  holder.kill_hard();
  CHECK(journal::open({.data_dir = dir.path()}));
}

SCENARIO("the same process cannot open a data directory twice", "[lock]") {
  temp_dir dir;
  auto first = journal::open({.data_dir = dir.path()});
  REQUIRE(first);
  auto second = journal::open({.data_dir = dir.path()});
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::data_dir_locked);
}

SCENARIO("a data directory that cannot be created is a clear error", "[lock]") {
  temp_dir dir;
  auto r = journal::open({.data_dir = "/proc/endure-cannot-exist/x"});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("/proc/endure-cannot-exist/x"));
  CHECK(journal::open({.data_dir = ""}).error().code == errc::invalid_argument);
}
