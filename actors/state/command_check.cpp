// A command verification in a child process (command_check.hpp).
#include "endure/actors/state/command_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "endure/net/sha256.hpp"

extern char** environ;

namespace endure::state {

namespace {

using clock_type = std::chrono::steady_clock;

/// Output kept for the hash and the tail: enough for any check's verdict;
/// more is read and dropped so the child never blocks on a full pipe.
constexpr std::size_t max_kept_output = 4 << 20;

struct pipe_pair {
  int read = -1, write = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  ~pipe_pair() {
    if (read >= 0)
      ::close(read);
    if (write >= 0)
      ::close(write);
  }
};

struct spawned {
  pid_t pid = -1;
  std::string problem;  ///< why it could not start
};

spawned spawn_shell(const verification& v, const std::filesystem::path& workdir, pipe_pair& out,
                    pipe_pair& err) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out.write, 1);
  posix_spawn_file_actions_adddup2(&fa, err.write, 2);
  posix_spawn_file_actions_addchdir_np(&fa, workdir.c_str());
  // Its own process group, so a timeout kills what the shell started too.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t dflt;
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                    | POSIX_SPAWN_SETSIGDEF);
  const char* argv[] = {"sh", "-c", v.command.c_str(), nullptr};
  spawned s;
  int rc = ::posix_spawn(&s.pid, "/bin/sh", &fa, &attr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    s.pid = -1;
    s.problem = std::string{"could not start /bin/sh in "} + workdir.string() + ": "
                + std::strerror(rc);
  }
  return s;
}

/// Reads both pipes until they close or the deadline passes; true if the
/// deadline passed first.
bool drain(int out_fd, int err_fd, std::string& out, std::string& err,
           clock_type::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open_fds = 2;
  char buf[16384];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0)
      return true;
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR)
      return false;
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      auto got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        auto keep = std::min<std::size_t>(static_cast<std::size_t>(got),
                                          max_kept_output - std::min(max_kept_output,
                                                                     sinks[i]->size()));
        sinks[i]->append(buf, keep);
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  return false;
}

/// Waits for the child; at the deadline kills its group and reaps it.
std::optional<int> reap(pid_t pid, clock_type::time_point deadline, bool& timed_out) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? std::optional<int>{WEXITSTATUS(status)} : std::nullopt;
    if (r < 0 && errno != EINTR)
      return std::nullopt;
    if (!timed_out && clock_type::now() >= deadline) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
      continue;
    }
    if (!timed_out)
      ::usleep(1000);  // the pipes closed but the shell has not exited yet
  }
}

} // namespace

std::string tail_of(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return text;
  auto from = text.size() - max_bytes;
  while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80)
    ++from;  // not in the middle of a UTF-8 character
  return text.substr(from);
}

evidence run_command_check(const verification& v, const std::filesystem::path& workdir,
                           const std::function<std::int64_t()>& now_ms) {
  evidence e;
  e.ran = v.command;
  auto t0 = clock_type::now();
  auto finish = [&](std::string reason) {
    e.reason = std::move(reason);
    e.passed = e.reason.empty();
    e.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count();
    e.at_ms = now_ms();
    return e;
  };
  pipe_pair out, err;
  if (!out.open() || !err.open())
    return finish(std::string{"could not create pipes: "} + std::strerror(errno));
  auto child = spawn_shell(v, workdir, out, err);
  if (child.pid < 0)
    return finish(child.problem);
  ::close(out.write);
  ::close(err.write);
  out.write = err.write = -1;
  auto deadline = t0 + v.timeout;
  std::string stdout_text, stderr_text;
  bool timed_out = drain(out.read, err.read, stdout_text, stderr_text, deadline);
  if (timed_out)
    ::kill(-child.pid, SIGKILL);
  e.exit_status = reap(child.pid, deadline, timed_out);
  e.timed_out = timed_out;
  if (timed_out)
    e.exit_status.reset();
  e.result_hash = net::sha256_hex(stdout_text);
  e.output_tail = tail_of(stdout_text + (stderr_text.empty() ? "" : "\n[stderr]\n" + stderr_text));
  if (timed_out)
    return finish("timed out after " + std::to_string(v.timeout.count())
                  + " ms: the command was killed (its process group, SIGKILL)");
  if (!e.exit_status)
    return finish("the command was killed by a signal");
  if (*e.exit_status != v.expect_exit)
    return finish("exit status " + std::to_string(*e.exit_status) + ", expected "
                  + std::to_string(v.expect_exit));
  if (!v.expect_output.empty() && stdout_text.find(v.expect_output) == std::string::npos)
    return finish("standard output does not contain \"" + v.expect_output + "\"");
  return finish({});
}

} // namespace endure::state
