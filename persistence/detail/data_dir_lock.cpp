// flock-based data directory lock with the holder's pid for error messages.
#include "endure/persistence/detail/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace endure::detail {

namespace {

std::string read_holder(int fd) {
  char buf[32] = {};
  auto n = pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
    pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

} // namespace

expected<data_dir_lock> data_dir_lock::acquire(const std::string& dir) {
  auto path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errc::io_error, "cannot open lock file " + path + ": "
                                        + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    auto holder = read_holder(fd);
    ::close(fd);
    return make_error(errc::data_dir_locked,
                      "data directory " + dir + " is held by process " + holder
                        + "; stop that process or use another data directory");
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    auto msg = std::string{"cannot write lock file "} + path + ": " + std::strerror(errno);
    ::close(fd);
    return make_error(errc::io_error, msg);
  }
  return data_dir_lock{fd};
}

data_dir_lock::data_dir_lock(data_dir_lock&& o) noexcept
  : fd_(std::exchange(o.fd_, -1)) {}

data_dir_lock& data_dir_lock::operator=(data_dir_lock&& o) noexcept {
  std::swap(fd_, o.fd_);
  return *this;
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0)
    ::close(fd_);  // closing the descriptor releases the flock
}

} // namespace endure::detail
