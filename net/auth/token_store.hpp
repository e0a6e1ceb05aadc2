// Principals' bearer tokens for endure's HTTP API (issue 16), kept hashed at
// rest in DATA_DIR/tokens.json. The `endure token` commands write the file;
// a running server reads it and calls refresh() so a revoke takes effect
// without a restart. The file holds each token's SHA-256, never the token:
// a copy of the file grants nothing.
//
// Thread-safety: every member may be called from any thread; a mutex guards
// the in-memory copy. Processes that change the file at the same time take
// turns through an flock on DATA_DIR/tokens.lock, and each change is made to
// the file as it is on disk, not to a stale copy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::net::auth {

// -- roles ---------------------------------------------------------------------

/// What a principal may do. Ordered: each role includes the ones before it.
enum class role : std::uint8_t {
  /// Reads runs, requests and the inbox.
  viewer = 1,
  /// A viewer who may also decide requests (approve, reject, answer).
  approver,
  /// An approver who may also change the runtime (signals, releases).
  admin,
};

/// "viewer", "approver" or "admin".
std::string_view to_string(role r) noexcept;

/// The role named exactly `text` (lowercase), or nullopt.
std::optional<role> parse_role(std::string_view text) noexcept;

/// True if a principal holding `held` may do what needs `needed`
/// (admin implies approver implies viewer).
bool role_allows(role held, role needed) noexcept;

// -- entries -------------------------------------------------------------------

/// One token as stored. A revoked entry stays in the file as a record of who
/// held a token; its name may be given a new token.
struct token_entry {
  /// The principal: 1 to 200 bytes of UTF-8, no control characters.
  std::string name;
  role granted = role::viewer;
  /// Lowercase hex SHA-256 of the token text.
  std::string token_sha256;
  /// When the token was created, milliseconds since the Unix epoch (UTC).
  std::int64_t created_ms = 0;
  bool revoked = false;
};

/// Who presented a valid token.
struct principal {
  std::string name;
  role granted = role::viewer;
};

/// Success if `name` may name a principal; invalid_argument saying why not
/// (empty, longer than 200 bytes, not UTF-8, a control character).
expected<void> check_principal_name(std::string_view name);

/// The file name inside the data directory: "tokens.json".
inline constexpr std::string_view tokens_file_name = "tokens.json";

// -- the store -----------------------------------------------------------------

class token_store {
public:
  // -- constructors ------------------------------------------------------------

  /// Loads DATA_DIR/tokens.json. A missing file (or directory) is an empty
  /// store; create() makes both. Errors, each naming the file:
  /// invalid_state if the file is readable by others than its owner (the
  /// message says to chmod 600), corrupt_record if it is not the format
  /// (truncated JSON, a field of the wrong type, a duplicate token hash),
  /// newer_record_version if a newer endure wrote it, io_error if it cannot
  /// be read.
  static expected<token_store> open(std::filesystem::path data_dir);

  token_store(token_store&&) noexcept;
  token_store& operator=(token_store&&) noexcept;
  ~token_store();

  // -- changes (each rewrites the file atomically, mode 0600) --------------------

  /// Makes a token for a new principal and returns its text, "endure_" and
  /// 43 base64url characters (32 random bytes); it is not stored and cannot
  /// be shown again. Errors: invalid_argument (bad name), already_exists if
  /// `name` holds a token that is not revoked (revoke it first), the
  /// open() errors for the file as it is now, io_error if writing fails.
  expected<std::string> create(std::string_view name, role granted);

  /// Revokes `name`'s token. Errors: not_found if no principal has that
  /// name, invalid_state if its tokens are all revoked already, the open()
  /// errors, io_error if writing fails.
  expected<void> revoke(std::string_view name);

  // -- queries -------------------------------------------------------------------

  /// Every entry, revoked ones included, in the order they were created.
  std::vector<token_entry> list() const;

  /// The principal `token` belongs to. The token is hashed and compared with
  /// every stored hash in constant time (CRYPTO_memcmp, no early exit).
  /// Errors: permission_denied for an empty, malformed, unknown or revoked
  /// token (one message for all, "unknown or revoked token": the caller
  /// answers 401); after a failed refresh(), that refresh's error until a
  /// later refresh succeeds (fail closed: a file that cannot be read may
  /// hold a revoke).
  expected<principal> authenticate(std::string_view token) const;

  /// Reloads the file if its modification time, size or inode changed since
  /// the last load (one stat otherwise). Returns whether it reloaded; on an
  /// error the store refuses every token until a refresh succeeds.
  expected<bool> refresh();

  /// DATA_DIR/tokens.json.
  const std::filesystem::path& file() const noexcept;

private:
  struct state;
  explicit token_store(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

} // namespace endure::net::auth
