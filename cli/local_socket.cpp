// File descriptors, socket addresses and deadline-bounded frames for the
// control channel (local_socket.hpp).
#include "endure/cli/local_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace endure::cli {

unique_fd::unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
  std::swap(fd_, o.fd_);
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::string control_socket_path(const std::string& data_dir) {
  return data_dir + "/control.sock";
}

expected<local_address> make_local_address(const std::string& data_dir,
                                           const std::string& file) {
  local_address a;
  a.addr.sun_family = AF_UNIX;
  auto path = data_dir + "/" + file;
  if (path.size() >= sizeof a.addr.sun_path) {
    // sun_path holds 107 characters; a deeper data directory is reached
    // through a descriptor of the directory itself.
    a.dir_fd = unique_fd{::open(data_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (!a.dir_fd)
      return make_error(errc::io_error, "cannot open data directory " + data_dir + ": "
                                          + std::strerror(errno));
    path = "/proc/self/fd/" + std::to_string(a.dir_fd.get()) + "/" + file;
  }
  std::memcpy(a.addr.sun_path, path.c_str(), path.size() + 1);
  return a;
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

namespace {

/// Waits until `fd` is ready for `events` or the deadline passes.
expected<void> await_fd(int fd, short events, control_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline
                                                                      - control_clock::now());
    if (left.count() <= 0)
      return make_error(errc::timeout, "the other side of the control socket did not answer "
                                       "in time");
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1'000'000)));
    if (n > 0)
      return {};
    if (n < 0 && errno != EINTR)
      return make_error(errc::io_error, std::string{"poll: "} + std::strerror(errno));
  }
}

expected<void> write_all(int fd, const char* data, std::size_t size,
                         control_clock::time_point deadline) {
  while (size > 0) {
    auto n = ::send(fd, data, size, MSG_NOSIGNAL);  // a closed peer is an error, not SIGPIPE
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EPIPE)
      return make_error(errc::shut_down, "the other side closed the control socket");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return make_error(errc::io_error, std::string{"send: "} + std::strerror(errno));
    if (auto ok = await_fd(fd, POLLOUT, deadline); !ok)
      return ok;
  }
  return {};
}

expected<void> read_exactly(int fd, char* data, std::size_t size,
                            control_clock::time_point deadline) {
  while (size > 0) {
    auto n = ::recv(fd, data, size, 0);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET))
      return make_error(errc::shut_down, "the other side closed the control socket");
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return make_error(errc::io_error, std::string{"recv: "} + std::strerror(errno));
    if (auto ok = await_fd(fd, POLLIN, deadline); !ok)
      return ok;
  }
  return {};
}

} // namespace

expected<void> write_frame(int fd, std::string_view body, control_clock::time_point deadline) {
  auto n = static_cast<std::uint32_t>(body.size());
  char head[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                  static_cast<char>(n >> 8), static_cast<char>(n)};
  if (auto ok = write_all(fd, head, sizeof head, deadline); !ok)
    return ok;
  return write_all(fd, body.data(), body.size(), deadline);
}

expected<std::string> read_frame(int fd, std::size_t max_body,
                                 control_clock::time_point deadline) {
  unsigned char head[4];
  if (auto ok = read_exactly(fd, reinterpret_cast<char*>(head), sizeof head, deadline); !ok)
    return std::move(ok).error();
  std::size_t n = (std::size_t{head[0]} << 24) | (std::size_t{head[1]} << 16)
                  | (std::size_t{head[2]} << 8) | head[3];
  if (n > max_body)
    return make_error(errc::invalid_argument, "a control frame of " + std::to_string(n)
                                                + " bytes, above the limit of "
                                                + std::to_string(max_body));
  std::string body(n, '\0');
  if (auto ok = read_exactly(fd, body.data(), n, deadline); !ok)
    return std::move(ok).error();
  return body;
}

} // namespace endure::cli
