// child_process: fork/exec with a stdout pipe, poll-based line reads, and
// a pidfd to wait for the exit.
#include "support/child_process.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace endure::test {

using clock_type = std::chrono::steady_clock;

namespace {

/// In the forked child, before exec: gives up the capabilities that let
/// root ignore file modes. Root regains every capability of the bounding
/// set (and its inheritable ones) at exec, so they go from those too.
/// Returns false (errno set) if the kernel refused.
bool drop_file_capabilities() {
  if (::geteuid() != 0)
    return true;
  const int caps[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};
  for (int cap : caps)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return false;
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return false;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0)
    return false;
  for (int cap : caps)
    for (auto* set : {&data[0].effective, &data[0].permitted, &data[0].inheritable})
      *set &= ~(1u << cap);  // every one of them is below 32
  return ::syscall(SYS_capset, &header, data) == 0;
}

} // namespace

child_process::child_process(const std::vector<std::string>& argv, child_options opts) {
  int fds[2], in[2];
  if (::pipe2(fds, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(fds[1], 1);
    if (opts.merge_stderr)
      ::dup2(fds[1], 2);
    if (opts.without_file_capabilities && !drop_file_capabilities()) {
      std::fprintf(stderr, "cannot drop file capabilities: %s\n", std::strerror(errno));
      ::_exit(126);
    }
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  ::close(in[0]);
  out_fd_ = fds[0];
  in_fd_ = in[1];
}

child_process::~child_process() {
  kill_hard();
  if (out_fd_ >= 0)
    ::close(out_fd_);
  close_stdin();
}

void child_process::write_stdin(const std::string& text) {
  // A child that is gone makes the write raise SIGPIPE, which would end the
  // test process: block it on this thread and take it back if it came.
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  auto n = in_fd_ < 0 ? -1 : ::write(in_fd_, text.data(), text.size());
  if (n < 0 && errno == EPIPE) {
    timespec none{0, 0};
    ::sigtimedwait(&pipe_only, nullptr, &none);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write to the child's stdin");
}

void child_process::close_stdin() {
  if (in_fd_ >= 0)
    ::close(in_fd_);
  in_fd_ = -1;
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0 || out_fd_ < 0)
      return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[4096];
    auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      if (buffer_.empty())
        return std::nullopt;
      return std::exchange(buffer_, {});  // last line without newline
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::vector<std::string> child_process::read_all(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  std::vector<std::string> lines;
  while (auto line = read_line(std::chrono::duration_cast<std::chrono::milliseconds>(
           deadline - clock_type::now())))
    lines.push_back(std::move(*line));
  return lines;
}

void child_process::kill_hard() {
  if (pid_ <= 0 || status_)
    return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  status_ = st;
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (!status_) {
    // A pidfd becomes readable when the child exits: wait on that event.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0)
      throw std::runtime_error(std::string{"pidfd_open failed: "} + std::strerror(errno));
    pollfd p{pidfd, POLLIN, 0};
    auto deadline = clock_type::now() + timeout;
    int ready = 0;
    do {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    } while (ready < 0 && errno == EINTR);
    ::close(pidfd);
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_)
      status_ = st;
  }
  kill_hard();
  if (WIFEXITED(*status_))
    return WEXITSTATUS(*status_);
  return -WTERMSIG(*status_);
}

std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout,
                                        child_options opts) {
  child_process child{argv, opts};
  std::string out;
  for (auto& line : child.read_all(timeout))
    out += line + "\n";
  return {child.wait(timeout), out};
}

} // namespace endure::test
