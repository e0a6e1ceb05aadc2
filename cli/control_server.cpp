// control_server (control_server.hpp): an accept thread polling the
// listening socket and a wake-up pipe, and one thread per admitted
// connection. Counters under one mutex say how many connections are busy,
// so stop_requests can wait for them and the accept thread can refuse
// more than the caps.
#include "endure/cli/control_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "endure/cli/local_socket.hpp"
#include "endure/persistence/log.hpp"

namespace endure::cli {

struct control_server::impl {
  std::string data_dir;
  std::string path;
  control_handler handler;
  control_server_options opts;
  unique_fd listener;
  unique_fd wake_read, wake_write;  // a byte here wakes the accept thread
  std::thread acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<bool> closing{false};

  std::mutex mu;
  std::condition_variable idle;  // signalled when a connection finishes
  std::size_t requests = 0;      // admitted connections not waiting on a run
  std::size_t waits = 0;         // connections waiting on a run's end
  struct worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
  };
  std::list<worker> workers;  // touched by the accept thread and the destructor only

  void accept_loop();
  void admit(unique_fd conn);
  void serve_connection(unique_fd conn, control_clock::time_point accepted);
  control_reply execute(const control_request& r);
  void finished(bool was_waiting);
  void reap_workers(bool all);
};

namespace {

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

/// A greeting the accept thread sends without waiting (the new socket's
/// buffer is empty), before it closes the connection.
void turn_away(int fd, channel_state state, const std::string& message) {
  auto body = encode(control_greeting{state, ::getpid(), message});
  (void)write_frame(fd, body, control_clock::now() + std::chrono::milliseconds(100));
}

/// Why the peer on `fd` may not use serve's socket (another uid, or one
/// that cannot be read); empty if it may.
std::string foreign_peer(int fd, const std::string& data_dir) {
  ucred peer{};
  socklen_t len = sizeof peer;
  bool known = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && len == sizeof peer;
  if (known && peer.uid == ::geteuid())
    return {};
  return "endure serve (pid " + std::to_string(::getpid()) + ") on " + data_dir
         + " takes requests only from its own user (uid " + std::to_string(::geteuid())
         + "); you are uid " + (known ? std::to_string(peer.uid) : std::string{"unknown"});
}

expected<unique_fd> bind_socket(const std::string& data_dir, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
    return make_error(errc::io_error, path + " exists and is not a socket: move it away, it "
                                             "is where endure serve listens");
  auto temp_name = "control.sock." + std::to_string(::getpid()) + ".new";
  auto temp_path = data_dir + "/" + temp_name;
  ::unlink(temp_path.c_str());  // left by an earlier process of the same pid
  auto addr = make_local_address(data_dir, temp_name);
  if (!addr)
    return std::move(addr).error();
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (!fd)
    return make_error(errc::io_error, sys_error("cannot create a Unix socket"));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), sizeof addr->addr) != 0)
    return make_error(errc::io_error, sys_error("cannot bind " + temp_path));
  bool ok = ::chmod(temp_path.c_str(), 0600) == 0 && ::listen(fd.get(), 64) == 0
            && ::rename(temp_path.c_str(), path.c_str()) == 0;
  if (!ok) {
    auto err = make_error(errc::io_error, sys_error("cannot set up " + path));
    ::unlink(temp_path.c_str());
    return err;
  }
  return fd;
}

} // namespace

expected<std::unique_ptr<control_server>>
control_server::start(const std::string& data_dir, control_handler handler,
                      control_server_options opts) {
  auto p = std::make_unique<impl>();
  p->data_dir = data_dir;
  p->path = control_socket_path(data_dir);
  p->handler = std::move(handler);
  p->opts = opts;
  auto fd = bind_socket(data_dir, p->path);
  if (!fd)
    return std::move(fd).error();
  p->listener = std::move(*fd);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return make_error(errc::io_error, sys_error("cannot create a pipe"));
  p->wake_read = unique_fd{pipe_fds[0]};
  p->wake_write = unique_fd{pipe_fds[1]};
  p->acceptor = std::thread([raw = p.get()] { raw->accept_loop(); });
  return std::unique_ptr<control_server>{new control_server(std::move(p))};
}

control_server::control_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

const std::string& control_server::path() const noexcept {
  return impl_->path;
}

bool control_server::stop_requests(std::chrono::milliseconds limit) {
  std::unique_lock lock{impl_->mu};
  impl_->stopping = true;
  // Every connection's read and write has a deadline and waits watch
  // `stopping`; only a handler the runtime never answers outlasts `limit`.
  return impl_->idle.wait_for(lock, limit,
                              [&] { return impl_->requests == 0 && impl_->waits == 0; });
}

control_server::~control_server() {
  {
    std::unique_lock lock{impl_->mu};
    impl_->stopping = true;
    impl_->idle.wait(lock, [&] { return impl_->requests == 0 && impl_->waits == 0; });
  }
  impl_->closing = true;
  char byte = 1;
  (void)!::write(impl_->wake_write.get(), &byte, 1);
  impl_->acceptor.join();
  impl_->reap_workers(true);
}

void control_server::impl::accept_loop() {
  while (!closing) {
    pollfd fds[2] = {{listener.get(), POLLIN, 0}, {wake_read.get(), POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) {
      log::error("control socket " + path + ": " + sys_error("poll"));
      return;
    }
    reap_workers(false);
    if (!(fds[0].revents & POLLIN))
      continue;
    int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE)  // out of descriptors: let some close
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    admit(unique_fd{fd});
  }
}

/// Checks the peer and the caps; a connection that passes gets a thread.
void control_server::impl::admit(unique_fd conn) {
  auto accepted = control_clock::now();
  if (auto why = foreign_peer(conn.get(), data_dir); !why.empty()) {
    log::warn("control socket " + path + ": " + why);
    return turn_away(conn.get(), channel_state::refused, why);
  }
  std::optional<channel_state> away;
  std::string why;
  {
    // Under the lock stop_requests sets `stopping` with: a connection is
    // either counted before the drain looks, or told "stopping".
    std::lock_guard lock{mu};
    if (stopping) {
      away = channel_state::stopping;
      why = "endure serve is stopping";
    } else if (requests >= opts.max_requests) {
      away = channel_state::busy;
      why = "endure serve has " + std::to_string(requests) + " requests in progress";
    } else {
      ++requests;
    }
  }
  if (away)
    return turn_away(conn.get(), *away, why);
  worker w;
  w.thread = std::thread([this, c = std::move(conn), accepted, done = w.done]() mutable {
    serve_connection(std::move(c), accepted);
    *done = true;
  });
  workers.push_back(std::move(w));
}

void control_server::impl::serve_connection(unique_fd conn, control_clock::time_point accepted) {
  bool waiting = false;
  auto reply = [&](const control_reply& r) {
    (void)write_frame(conn.get(), encode(r),
                      control_clock::now() + opts.reply_deadline);
  };
  auto greeting = encode(control_greeting{channel_state::ready, ::getpid(), {}});
  if (write_frame(conn.get(), greeting, accepted + opts.request_deadline)) {
    auto body = read_frame(conn.get(), control_max_frame, accepted + opts.request_deadline);
    auto request = body ? decode_request(*body) : expected<control_request>{body.error()};
    if (!request && request.error().code == errc::invalid_argument)
      reply(control_reply::failure(errc::invalid_argument, request.error().message));
    if (request && request->op == control_op::wait) {
      std::lock_guard lock{mu};
      waiting = waits < opts.max_waits;
      if (waiting) {
        --requests;
        ++waits;
      }
    }
    if (request && request->op == control_op::wait && !waiting)
      reply(control_reply::failure(errc::io_error,
                                   "endure serve has " + std::to_string(opts.max_waits)
                                     + " clients waiting on runs already; wait for yours "
                                       "with `endure list` instead"));
    else if (request)
      reply(execute(*request));
  }
  finished(waiting);
}

control_reply control_server::impl::execute(const control_request& r) {
  try {
    return handler(r, stopping);
  } catch (const std::exception& e) {
    log::error("control socket " + path + ": " + std::string{to_string(r.op)} + " of run "
               + r.run_id + " threw: " + e.what());
    return control_reply::failure(errc::io_error, std::string{"endure serve failed: "}
                                                    + e.what());
  }
}

void control_server::impl::finished(bool was_waiting) {
  std::lock_guard lock{mu};
  --(was_waiting ? waits : requests);
  idle.notify_all();
}

void control_server::impl::reap_workers(bool all) {
  for (auto it = workers.begin(); it != workers.end();) {
    if (all || *it->done) {
      it->thread.join();
      it = workers.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace endure::cli
