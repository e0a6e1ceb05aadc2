// A real child process for crash tests: spawned with fork/exec, its stdout
// read line by line through a pipe (with a deadline), killed with SIGKILL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace endure::test {

class child_process {
public:
  /// Starts `argv[0]` with the given arguments; stdout is captured, stderr
  /// is inherited so a failing child's message shows in the test log.
  explicit child_process(const std::vector<std::string>& argv);
  /// Kills (SIGKILL) and reaps the child if it still runs.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Next line of stdout without the newline; nullopt on EOF or when
  /// `timeout` passes first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Everything until EOF (or the timeout), as lines.
  std::vector<std::string> read_all(std::chrono::milliseconds timeout);
  /// Sends SIGKILL and reaps.
  void kill_hard();
  /// Waits for exit (up to `timeout`, then kills); returns the exit code,
  /// or -signal if it died by a signal.
  int wait(std::chrono::milliseconds timeout);
  pid_t pid() const noexcept { return pid_; }

private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

/// Runs a command to completion and returns {exit code, stdout}.
std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout);

} // namespace endure::test
