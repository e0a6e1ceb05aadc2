// DATA_DIR/tokens.json on disk: its format, its permission check, its
// atomic rewrite and the lock writers share. Internal to net/auth; the
// token_store holds the only callers. Any thread; no state.
//
// Format (version 1):
//   {"version": 1, "tokens": [{"name": "alice", "role": "admin",
//     "sha256": "<64 lowercase hex>", "created_ms": 1767225600000,
//     "revoked": false}, ...]}
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "endure/net/auth/token_store.hpp"

namespace endure::net::auth::detail {

/// What identifies one version of the file: a rewrite (a new inode by
/// rename) or an edit changes at least one of these.
struct file_stamp {
  std::int64_t mtime_ns = 0;
  std::int64_t size = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const file_stamp&, const file_stamp&) = default;
};

struct loaded_tokens {
  std::vector<token_entry> entries;
  /// nullopt: there is no file (an empty store).
  std::optional<file_stamp> stamp;
};

/// The file's stamp, nullopt if it does not exist; io_error if stat fails.
expected<std::optional<file_stamp>> stat_tokens_file(const std::filesystem::path& file);

/// Reads and checks the file (permissions, then format); see
/// token_store::open for the errors.
expected<loaded_tokens> read_tokens_file(const std::filesystem::path& file);

/// Replaces the file with `entries`: FILE.tmp (mode 0600), fsync, rename,
/// fsync of the directory, which is created if missing.
expected<void> write_tokens_file(const std::filesystem::path& file,
                                 const std::vector<token_entry>& entries);

/// An exclusive flock on DIR/tokens.lock, released when it dies.
class writer_lock {
public:
  static expected<writer_lock> take(const std::filesystem::path& dir);
  writer_lock(writer_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  writer_lock& operator=(writer_lock&&) = delete;
  ~writer_lock();

private:
  explicit writer_lock(int fd) : fd_(fd) {}
  int fd_;
};

} // namespace endure::net::auth::detail
