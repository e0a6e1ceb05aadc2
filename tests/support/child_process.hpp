// A real child process for crash tests: spawned with fork/exec, its stdout
// read line by line through a pipe (with a deadline), killed with SIGKILL.
// Optionally it runs without root's power over file permissions, so a test
// of a denied write means the same as root (CI) as for anyone else.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace endure::test {

struct child_options {
  /// Capture stderr too, in the same pipe as stdout. Default: false (stderr
  /// is inherited, so a failing child's message shows in the test log).
  bool merge_stderr = false;
  /// Run without CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER (gone
  /// from the bounding, inheritable and ambient sets before exec), so that
  /// file modes bind the child even when the test runs as root: a root
  /// child still owns the files root made, but a directory of mode 0500
  /// denies it writing. No effect for other users. Default: false.
  bool without_file_capabilities = false;
};

class child_process {
public:
  /// Starts `argv[0]` with the given arguments; stdout is captured, stdin
  /// is a pipe from this object (write_stdin), never the test's own.
  explicit child_process(const std::vector<std::string>& argv, child_options opts = {});
  /// Kills (SIGKILL) and reaps the child if it still runs.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Next line of stdout without the newline; nullopt on EOF or when
  /// `timeout` passes first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Everything until EOF (or the timeout), as lines.
  std::vector<std::string> read_all(std::chrono::milliseconds timeout);
  /// Writes `text` to the child's stdin (all of it; a small write to a
  /// pipe does not block).
  void write_stdin(const std::string& text);
  /// Closes the child's stdin: it reads end of file.
  void close_stdin();
  /// Sends SIGKILL and reaps.
  void kill_hard();
  /// Waits for exit (up to `timeout`, then kills); returns the exit code,
  /// or -signal if it died by a signal.
  int wait(std::chrono::milliseconds timeout);
  pid_t pid() const noexcept { return pid_; }

private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

/// Runs a command to completion and returns {exit code, stdout}.
std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout,
                                        child_options opts = {});

} // namespace endure::test
