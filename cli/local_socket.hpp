// The plain POSIX pieces of the control channel (control_server,
// control_client): an owned file descriptor, the address of
// DATA_DIR/control.sock (reached through /proc/self/fd when the path is too
// long for sockaddr_un), and length-prefixed frames read and written on a
// non-blocking stream socket before a deadline, so a peer that sends
// nothing, too much or garbage costs a bounded time and memory. Used by
// whichever thread owns the socket. Internal to cli/.
#pragma once

#include <sys/un.h>

#include <chrono>
#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"

namespace endure::cli {

using control_clock = std::chrono::steady_clock;

/// A file descriptor closed on destruction.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept;
  unique_fd& operator=(unique_fd&& o) noexcept;
  ~unique_fd();
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// The channel's file in a data directory.
std::string control_socket_path(const std::string& data_dir);

/// The address of `data_dir`/`file` for bind or connect. A path longer than
/// sockaddr_un holds goes through /proc/self/fd/N of `dir_fd`, which then
/// stays open as long as the address is used.
struct local_address {
  sockaddr_un addr{};
  unique_fd dir_fd;
};
expected<local_address> make_local_address(const std::string& data_dir, const std::string& file);

/// Writes one frame (4-byte big-endian length, then `body`). Errors:
/// timeout, shut_down (the peer closed), io_error.
expected<void> write_frame(int fd, std::string_view body, control_clock::time_point deadline);

/// Reads one frame of at most `max_body` bytes. Errors: timeout,
/// shut_down (the peer closed before a whole frame), invalid_argument (the
/// length is above max_body), io_error.
expected<std::string> read_frame(int fd, std::size_t max_body, control_clock::time_point deadline);

/// Sets O_NONBLOCK; false on failure.
bool set_nonblocking(int fd);

} // namespace endure::cli
