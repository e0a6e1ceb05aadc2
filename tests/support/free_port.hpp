// TCP ports on 127.0.0.1 that were free a moment ago: the OS picks them
// for sockets bound to port 0, which are then closed so servers (often
// child processes that must be told their ports in advance) can bind
// them. All are held until all are picked (one bound and closed at a time
// could be handed out twice). Throws std::runtime_error when a socket
// call fails. Any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace endure::test {

inline std::vector<std::uint16_t> free_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> out;
  auto close_all = [&] {
    for (int fd : fds)
      ::close(fd);
  };
  for (std::size_t i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      close_all();
      throw std::runtime_error("free_ports: socket() failed");
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close_all();
      throw std::runtime_error("free_ports: cannot bind a port on 127.0.0.1");
    }
    out.push_back(ntohs(addr.sin_port));
  }
  close_all();
  return out;
}

inline std::uint16_t free_port() { return free_ports(1).front(); }

} // namespace endure::test
