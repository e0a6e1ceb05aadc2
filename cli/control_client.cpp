// ask_serve (control_client.hpp): connect, greeting, request, reply.
#include "endure/cli/control_client.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "endure/cli/local_socket.hpp"

namespace endure::cli {

namespace {

channel_answer answer(channel_outcome outcome, std::string message = {}, pid_t pid = 0) {
  channel_answer a;
  a.outcome = outcome;
  a.message = std::move(message);
  a.pid = pid;
  return a;
}

std::string serve_name(pid_t pid) {
  return "endure serve (pid " + std::to_string(pid) + ")";
}

/// Connects without blocking: a full backlog is "busy", not a wait.
channel_answer connect_socket(const std::string& data_dir, unique_fd& fd) {
  auto path = control_socket_path(data_dir);
  auto addr = make_local_address(data_dir, "control.sock");
  if (!addr)
    return answer(channel_outcome::absent);  // the data directory is not there either
  fd = unique_fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (!fd)
    return answer(channel_outcome::refused,
                  std::string{"cannot create a Unix socket: "} + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), sizeof addr->addr) == 0)
    return answer(channel_outcome::replied);  // connected; the caller goes on
  switch (errno) {
  case ENOENT:
  case ECONNREFUSED:  // a socket file with nobody behind it: a serve that died
  case ENOTDIR:
    return answer(channel_outcome::absent);
  case EAGAIN:
    return answer(channel_outcome::busy, "endure serve's connection queue is full");
  case EACCES:
  case EPERM:
    return answer(channel_outcome::refused,
                  "cannot use " + path + ": permission denied (only the user running `endure "
                    "serve` on " + data_dir + " may control it)");
  default:
    return answer(channel_outcome::refused,
                  "cannot connect to " + path + ": " + std::strerror(errno));
  }
}

channel_answer greeted(int fd, const std::string& data_dir) {
  auto body = read_frame(fd, control_max_frame, control_clock::now() + greeting_timeout);
  if (!body && body.error().code == errc::shut_down)
    return answer(channel_outcome::absent);  // closed before a word: nothing was sent
  if (!body)
    return answer(channel_outcome::refused, "endure serve on " + data_dir
                                              + " did not greet on its control socket: "
                                              + body.error().message);
  auto g = decode_greeting(*body);
  if (!g)
    return answer(channel_outcome::refused, g.error().message);
  switch (g->state) {
  case channel_state::ready:
    return answer(channel_outcome::replied, {}, g->pid);
  case channel_state::stopping:
    return answer(channel_outcome::stopping, g->message, g->pid);
  case channel_state::busy:
    return answer(channel_outcome::busy, g->message, g->pid);
  case channel_state::refused:
    break;
  }
  return answer(channel_outcome::refused, g->message, g->pid);
}

} // namespace

channel_answer ask_serve(const std::string& data_dir, const control_request& r,
                         std::optional<std::chrono::milliseconds> reply_timeout) {
  unique_fd fd;
  auto connected = connect_socket(data_dir, fd);
  if (connected.outcome != channel_outcome::replied)
    return connected;
  auto hello = greeted(fd.get(), data_dir);
  if (hello.outcome != channel_outcome::replied)
    return hello;
  auto pid = hello.pid;
  auto lost = [&](const std::string& why) {
    return answer(channel_outcome::lost,
                  serve_name(pid) + " did not answer the " + std::string{to_string(r.op)}
                    + " of run " + r.run_id + " (" + why + ")",
                  pid);
  };
  // Far enough that "as long as it takes" never ends first.
  auto forever = control_clock::now() + std::chrono::hours(24 * 365 * 10);
  auto deadline = reply_timeout ? control_clock::now() + *reply_timeout : forever;
  if (auto sent = write_frame(fd.get(), encode(r), control_clock::now() + greeting_timeout);
      !sent)
    return lost(sent.error().message);
  auto body = read_frame(fd.get(), control_max_frame, deadline);
  if (!body)
    return lost(body.error().code == errc::shut_down ? "it closed the connection: it stopped "
                                                       "or was killed"
                                                     : body.error().message);
  auto reply = decode_reply(*body);
  if (!reply)
    return lost(reply.error().message);
  auto out = answer(channel_outcome::replied, {}, pid);
  out.reply = std::move(*reply);
  return out;
}

} // namespace endure::cli
