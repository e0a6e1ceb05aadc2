// tcp_proxy.hpp: one poll() loop over the listening socket, a wake-up pipe
// and both sockets of every relayed connection.
#include "support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace endure::test {

namespace {

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Moves what `from` has to `to`; false when either side is done.
bool relay(int from, int to) {
  char buf[64 * 1024];
  auto n = ::read(from, buf, sizeof buf);
  if (n <= 0)
    return false;
  for (ssize_t done = 0; done < n;) {
    // MSG_NOSIGNAL: a peer that closed must not end the test with SIGPIPE.
    auto w = ::send(to, buf + done, static_cast<std::size_t>(n - done), MSG_NOSIGNAL);
    if (w <= 0)
      return false;
    done += w;
  }
  return true;
}

} // namespace

tcp_proxy::tcp_proxy(std::uint16_t target) : target_(target) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::listen(listen_fd_, 16) != 0
      || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0
      || ::pipe2(wake_, O_CLOEXEC) != 0)
    throw std::runtime_error("tcp_proxy: cannot listen on 127.0.0.1");
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { loop(); });
}

tcp_proxy::~tcp_proxy() {
  stopping_ = true;
  (void)::write(wake_[1], "x", 1);
  thread_.join();
  close_all_pairs();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

bool tcp_proxy::cut() {
  cut_requested_ = true;
  (void)::write(wake_[1], "x", 1);
  // Done once the loop has seen it (it wakes every 50 ms at the latest).
  for (int i = 0; i < 1000 && cut_requested_.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return !cut_requested_.load();
}

bool tcp_proxy::hold(bool down) {
  held_ = down;
  return !down || cut();
}

void tcp_proxy::close_all_pairs() {
  for (auto& p : pairs_) {
    ::shutdown(p.client, SHUT_RDWR);
    ::shutdown(p.server, SHUT_RDWR);
    ::close(p.client);
    ::close(p.server);
  }
  pairs_.clear();
}

void tcp_proxy::loop() {
  while (!stopping_) {
    if (cut_requested_) {
      close_all_pairs();
      cut_requested_ = false;
    }
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (auto& p : pairs_) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 50) <= 0)
      continue;
    if (fds[1].revents) {
      char drain[64];
      (void)::read(wake_[0], drain, sizeof drain);
    }
    std::vector<std::size_t> done;
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      auto& c = fds[2 + 2 * i];
      auto& s = fds[3 + 2 * i];
      bool ok = true;
      if (c.revents)
        ok = relay(pairs_[i].client, pairs_[i].server);
      if (ok && s.revents)
        ok = relay(pairs_[i].server, pairs_[i].client);
      if (!ok)
        done.push_back(i);
    }
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      ::close(pairs_[*it].client);
      ::close(pairs_[*it].server);
      pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    if (fds[0].revents) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0)
        continue;
      if (held_) {  // the link is down: the peer sees its connection end at once
        ::close(client);
        continue;
      }
      int server = connect_to(target_);
      if (server < 0) {
        ::close(client);
        continue;
      }
      pairs_.push_back({client, server});
      ++accepted_;
    }
  }
}

} // namespace endure::test
