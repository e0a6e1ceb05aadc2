// `endure serve` holds the data directory: it executes pending runs, other
// commands reach its runtime through its control socket (the rest of that
// story: control_channel_test.cpp), commands that would open a runtime of
// their own say which process holds the directory, read-only ones (list)
// keep working, and SIGTERM stops it cleanly.
#include <catch2/catch.hpp>

#include <signal.h>

#include <thread>

#include "cli/cli_runner.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
using namespace std::chrono_literals;

SCENARIO("serve runs pending runs and holds the data directory", "[cli][serve]") {
  temp_dir dir;
  auto data = dir.file("data");
  REQUIRE(run_endure({"--data", data, "start", "seed_pipeline", "--id", "pending"}).code == 0);

  child_process serve{{ENDURE_BIN_PATH, "--data", data, "serve"}};
  auto first = serve.read_line(10s);
  REQUIRE(first);
  CHECK_THAT(*first, Catch::Contains("serving") && Catch::Contains("1 unfinished"));

  auto line = serve.read_line(20s);
  REQUIRE(line);
  CHECK(*line == "run pending: completed");

  auto through = run_endure({"--data", data, "signal", "pending", "go"});
  CHECK(through.code == 1);
  CHECK_THAT(through.err, Catch::Contains("run pending has already ended (completed)"));

  auto held = run_endure({"--data", data, "pipeline", "--runs", "1"});
  CHECK(held.code == 1);
  CHECK_THAT(held.err, Catch::Contains("held by process " + std::to_string(serve.pid())));

  auto list = run_endure({"--data", data, "list"});
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("pending") && Catch::Contains("completed"));

  ::kill(serve.pid(), SIGTERM);
  CHECK(serve.wait(10s) == 0);
}
