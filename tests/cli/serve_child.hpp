// The test CLI (workflows_cli) as the gateway tests drive it: one-shot
// commands on a data directory, and `serve --policy` as a child process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/cli_runner.hpp"
#include "support/child_process.hpp"

namespace endure::test {

inline const std::string workflows_cli_bin = WORKFLOWS_CLI_PATH;

inline cli_result cli_run(const std::string& data, std::vector<std::string> args) {
  args.insert(args.begin(), {"--data", data});
  return run_program(workflows_cli_bin, args);
}

/// Starts `serve --policy POLICY` (journal durability `mode`) and waits
/// for its "serving" line.
inline std::unique_ptr<child_process> start_serve(const std::string& data,
                                                  const std::string& policy,
                                                  const std::string& mode = "sync") {
  auto serve = std::make_unique<child_process>(std::vector<std::string>{
    workflows_cli_bin, "--data", data, "--mode", mode, "serve", "--policy", policy});
  auto first = serve->read_line(std::chrono::seconds{20});
  REQUIRE(first);
  REQUIRE_THAT(*first, Catch::Contains("serving"));
  return serve;
}

} // namespace endure::test
