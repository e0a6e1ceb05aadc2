// Runs the built `endure` binary as a user would, capturing exit code,
// stdout and stderr (through a shell, bounded by `timeout`).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace endure::test {

struct cli_result {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `program` with `args` and `input` on its standard input (never the
/// test's own); a run longer than `limit` is killed (exit code 137,
/// SIGKILL's).
cli_result run_program(const std::string& program, const std::vector<std::string>& args,
                       std::chrono::seconds limit = std::chrono::seconds{60},
                       const std::string& input = {});

/// run_program(ENDURE_BIN_PATH, ...).
cli_result run_endure(const std::vector<std::string>& args,
                      std::chrono::seconds limit = std::chrono::seconds{60},
                      const std::string& input = {});

} // namespace endure::test
