// The calling side of the control channel (control_server.hpp): connects to
// DATA_DIR/control.sock, reads serve's greeting, sends one request and
// reads the reply. Each outcome says what the caller may do next: only
// `lost` leaves it unknown whether the request was carried out. Blocking,
// on the caller's thread. Internal to cli/.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "endure/cli/control_protocol.hpp"

namespace endure::cli {

enum class channel_outcome {
  replied,   ///< serve answered: see `reply`
  absent,    ///< nobody listens: no socket file, or one left by a serve that died
  stopping,  ///< serve is shutting down: the journal is free once it exits
  busy,      ///< serve has too many connections: try again shortly
  refused,   ///< this user may not use the socket, or serve did not greet (`message`)
  lost,      ///< the request was sent, the answer never came (`message`)
};

struct channel_answer {
  channel_outcome outcome = channel_outcome::absent;
  control_reply reply;
  pid_t pid = 0;  ///< serve's, once it greeted
  std::string message;
};

/// How long a client waits for serve's greeting. Default: 5 s.
inline constexpr std::chrono::milliseconds greeting_timeout{5'000};

/// Sends `r` to the serve of `data_dir` if one listens and waits for its
/// reply up to `reply_timeout` (nullopt: as long as it takes; serve's death
/// still ends it).
channel_answer ask_serve(const std::string& data_dir, const control_request& r,
                         std::optional<std::chrono::milliseconds> reply_timeout);

} // namespace endure::cli
