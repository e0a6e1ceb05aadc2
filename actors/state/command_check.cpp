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

/// The tail of each stream kept for the evidence (tail_of keeps 2 KiB).
constexpr std::size_t kept_tail = 4096;

/// One output stream, read as it comes in parts: its last bytes, and for
/// standard output its hash and whether the expected text occurred, so an
/// output of any length is judged whole in bounded memory.
struct output_stream {
  std::string recent;              ///< the last bytes (at least `window`)
  std::size_t window = kept_tail;  ///< kept_tail + the expected text's length
  const std::string* needle = nullptr;
  bool found = false;
  net::sha256_stream* hash = nullptr;

  void add(const char* p, std::size_t n) {
    if (hash)
      hash->add({p, n});
    recent.append(p, n);
    // The window keeps the needle's length, so a match across two reads
    // is found too.
    if (needle && !found && recent.find(*needle) != std::string::npos)
      found = true;
    if (recent.size() > 2 * window)  // trimmed now and then: amortised O(1) a byte
      recent.erase(0, recent.size() - window);
  }
};

/// Bytes that are not UTF-8 become U+FFFD: the tail goes into JSON rows,
/// prompts and messages, which take UTF-8 only.
std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3
                                    : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {  // no overlong forms, surrogates or code points past U+10FFFF
      std::uint32_t cp = c & (0x7F >> len);
      for (std::size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= least[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

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
bool drain(int out_fd, int err_fd, output_stream& out, output_stream& err,
           clock_type::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  output_stream* sinks[2] = {&out, &err};
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
        sinks[i]->add(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  return false;
}

/// Waits for the child; at the deadline kills its group. Once the shell
/// has exited, what it left running in its group is killed too (a check
/// leaves no process behind), while the unreaped shell still holds the
/// group's id, so the kill cannot reach a group that reused it. Reaps it.
std::optional<int> reap(pid_t pid, clock_type::time_point deadline, bool& timed_out) {
  for (;;) {
    siginfo_t info{};
    int r = ::waitid(P_PID, static_cast<id_t>(pid), &info,
                     WEXITED | WNOWAIT | (timed_out ? 0 : WNOHANG));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return std::nullopt;
    if (info.si_pid == pid) {
      ::kill(-pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return WIFEXITED(status) ? std::optional<int>{WEXITSTATUS(status)} : std::nullopt;
    }
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
  net::sha256_stream hash;
  output_stream out_stream, err_stream;
  out_stream.hash = &hash;
  if (!v.expect_output.empty()) {
    out_stream.needle = &v.expect_output;
    out_stream.window += v.expect_output.size();
  }
  bool timed_out = drain(out.read, err.read, out_stream, err_stream, deadline);
  if (timed_out)
    ::kill(-child.pid, SIGKILL);
  e.exit_status = reap(child.pid, deadline, timed_out);
  e.timed_out = timed_out;
  if (timed_out)
    e.exit_status.reset();
  e.result_hash = hash.hex();
  auto& stdout_tail = out_stream.recent;
  auto& stderr_tail = err_stream.recent;
  e.output_tail = valid_utf8(
    tail_of(tail_of(stdout_tail, kept_tail)
            + (stderr_tail.empty() ? "" : "\n[stderr]\n" + tail_of(stderr_tail, kept_tail))));
  if (timed_out)
    return finish("timed out after " + std::to_string(v.timeout.count())
                  + " ms: the command was killed (its process group, SIGKILL)");
  if (!e.exit_status)
    return finish("the command was killed by a signal");
  if (*e.exit_status != v.expect_exit)
    return finish("exit status " + std::to_string(*e.exit_status) + ", expected "
                  + std::to_string(v.expect_exit));
  if (!v.expect_output.empty() && !out_stream.found)
    return finish("standard output does not contain \"" + v.expect_output + "\"");
  return finish({});
}

} // namespace endure::state
