// A TCP relay on 127.0.0.1 for network-fault tests: it accepts on a port
// of its own (bound at construction, so a peer can be told it in advance)
// and relays each connection to 127.0.0.1:target, byte for byte, both
// ways, on one thread (blocking writes: a peer that stops reading stalls
// the relay, which these tests do not do). cut() closes every connection it relays, as a
// network that drops them would; new connections are relayed again.
// hold(true) cuts them and refuses new ones until hold(false): a link that
// stays down. The destructor stops the thread and closes everything.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace endure::test {

class tcp_proxy {
public:
  /// Listens on an OS-picked port. Throws std::runtime_error when it cannot.
  explicit tcp_proxy(std::uint16_t target);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// Closes every connection relayed so far (both of its sockets, with a
  /// FIN: the peers see the connection end); false if the relay's thread
  /// did not get to it within 5 s.
  bool cut();
  /// While `down`, the link is gone: every connection is cut (as cut())
  /// and new ones are closed as soon as they are accepted, never relayed.
  /// False if the relay's thread did not get to it within 5 s.
  bool hold(bool down);
  /// Connections relayed since construction.
  std::size_t accepted() const noexcept { return accepted_.load(); }

private:
  struct pair {
    int client = -1;
    int server = -1;
  };
  void loop();
  void close_all_pairs();

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_requested_{false};
  std::atomic<bool> held_{false};
  std::atomic<std::size_t> accepted_{0};
  std::vector<pair> pairs_;  ///< loop thread only
  std::thread thread_;
};

} // namespace endure::test
