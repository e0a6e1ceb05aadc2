// child_process: fork/exec with a stdout pipe, poll-based line reads.
#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace endure::test {

using clock_type = std::chrono::steady_clock;

child_process::child_process(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
}

child_process::~child_process() {
  kill_hard();
  if (out_fd_ >= 0)
    ::close(out_fd_);
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
  auto deadline = clock_type::now() + timeout;
  while (!status_ && clock_type::now() < deadline) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill_hard();
  if (WIFEXITED(*status_))
    return WEXITSTATUS(*status_);
  return -WTERMSIG(*status_);
}

std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) {
  child_process child{argv};
  std::string out;
  for (auto& line : child.read_all(timeout))
    out += line + "\n";
  return {child.wait(timeout), out};
}

} // namespace endure::test
