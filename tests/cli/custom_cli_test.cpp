// A program that registers its own workflow and hands over to
// endure::cli::main gets every subcommand for it (examples/custom_cli).
#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
using namespace std::chrono_literals;

SCENARIO("a user's own binary runs its workflows through the CLI", "[cli]") {
  temp_dir dir;
  auto [code, out] = run_command({CUSTOM_CLI_PATH, "--data", dir.path(), "run", "greet",
                                  "--id", "g1", "--input", "\"world\""}, 60s);
  CHECK(code == 0);
  CHECK(out == "run g1: completed\n\"hello, world!\"\n");
  auto [all_code, all] = run_command({CUSTOM_CLI_PATH, "--data", dir.path(), "run", "greet_all",
                                      "--id", "g2", "--input", R"(["ann", "bo"])"}, 60s);
  CHECK(all_code == 0);
  CHECK(all == "run g2: completed\n[\"hello, ann!\",\"hello, bo!\"]\n");
  auto [list_code, listing] = run_command({CUSTOM_CLI_PATH, "--data", dir.path(), "list"}, 60s);
  CHECK(list_code == 0);
  CHECK_THAT(listing, Catch::Contains("g1") && Catch::Contains("completed"));
  auto [bad_code, bad_out] = run_command({CUSTOM_CLI_PATH, "--data", dir.path(), "run", "nope"}, 60s);
  CHECK(bad_code == 2);
}
