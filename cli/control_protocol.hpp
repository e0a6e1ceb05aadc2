// What crosses the control channel between an `endure` command and a
// running `endure serve` (control_client, control_server), and what the
// offline journal path answers too (run_control.hpp), so both give the
// same reply. One connection carries: the server's greeting, one request,
// one reply; each a frame (local_socket.hpp) holding a msgpack array that
// starts with the protocol version. Pure data and codecs. Internal to cli/.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::cli {

/// Bumped when a frame's layout changes; both sides must agree.
/// 2: decide, and the request's principal field. 3: the reply's
/// policy_hash.
inline constexpr std::uint32_t control_protocol_version = 3;

/// Largest request or reply body. A start's input or a run's result above
/// it cannot cross the channel.
inline constexpr std::size_t control_max_frame = 16u << 20;

enum class control_op : std::uint8_t {
  start = 1,  ///< journal a run (idempotent by run id)
  signal,
  cancel,
  release,
  wait,  ///< reply once the run has ended (serve only)
  decide,  ///< a person's decision on a human-gateway request
};

/// "start", "signal", ...
std::string_view to_string(control_op op) noexcept;

struct control_request {
  control_op op = control_op::start;
  std::string run_id;     ///< decide: the request id ("RUN/STEP")
  std::string workflow;   ///< start
  std::string name;       ///< signal; decide: approve, edit, reject or respond
  std::string payload;    ///< msgpack: start's input, signal's payload; decide: JSON text
  std::string reason;     ///< cancel, release
  std::string principal;  ///< decide: who decides (--as)
};

/// The answer to a request, alike from a live runtime and from the journal.
struct control_reply {
  /// Empty on success; not_found (no such run or request), invalid_state
  /// (the request does not apply to the run's status; a decision on a
  /// request decided already), permission_denied (not an approver), or
  /// another endure error.
  std::optional<errc> code;
  /// start: the run's status; wait: how it ended; invalid_state: the status
  /// that refused the request.
  run_status status = run_status::running;
  /// For people: why it failed; wait: the run's error; decide: what was
  /// done ("decided (approve by ann)", "counted 1 of 2", plus a note when
  /// the run has ended and takes nothing).
  std::string message;
  /// wait: the run's msgpack result.
  std::string result;
  /// The hash of the policy the answering process gates runs with
  /// (gateway::policy::hash), empty for none: a client that would carry a
  /// run on itself once that process is gone needs the same one.
  std::string policy_hash;

  static control_reply failure(errc code, std::string message,
                               run_status status = run_status::running) {
    return {code, status, std::move(message), {}, {}};
  }
};

/// The server's first frame on every connection.
enum class channel_state : std::uint8_t {
  ready = 1,  ///< send your request
  stopping,   ///< serve is shutting down: use the journal once it has let go
  busy,       ///< too many connections: try again shortly
  refused,    ///< this peer may not control the server (message says why)
};

struct control_greeting {
  channel_state state = channel_state::ready;
  pid_t pid = 0;
  std::string message;
};

std::string encode(const control_greeting& g);
std::string encode(const control_request& r);
std::string encode(const control_reply& r);

/// Each fails with invalid_argument (naming what is wrong) on bytes that
/// are not such a frame of this protocol version.
expected<control_greeting> decode_greeting(std::string_view body);
expected<control_request> decode_request(std::string_view body);
expected<control_reply> decode_reply(std::string_view body);

} // namespace endure::cli
