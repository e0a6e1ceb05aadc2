// Artifacts: what a task's steps produce (a report, a patch, a data file),
// content-addressed and kept in the journal's LMDB environment (the same one
// as the runs, so an artifact is exactly as durable as the step that made
// it). Three kinds of rows in side_table::artifacts (persistence/FORMAT.md):
//
//   b/HASH              the bytes, once, whatever puts them (tag 75)
//   r/TASK/SEQ          one listing per put, in put order (tag 76):
//                       name, hash, size, provenance, time
//   k/XXH3-128(who)     which listing a (task, name, provenance) made (tag 79)
//
// HASH is the SHA-256 hex of the bytes: the artifact's id, verified on every
// read. A put is identified by its task, name and provenance (run, session,
// step): putting again under the same ones (a step re-run after a crash)
// updates that listing instead of adding one, so a replayed or retried step
// never lists an artifact twice. Blobs are never deleted (no listing is
// either): a blob a re-run replaced stays, unlisted.
//
// Blocking journal calls (commits are synced per the journal's durability);
// any thread, one call at a time per object. Puts from several objects or
// threads are safe: they are serialized in the process (only one process
// writes a journal), and their new rows are written if absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure {
class journal;
class record_types;
} // namespace endure

namespace endure::state {

/// Who made an artifact.
struct artifact_provenance {
  std::string run_id;          ///< the run whose step put it (may be empty)
  std::uint32_t session = 0;   ///< the task's session (0: none)
  std::uint64_t step = 0;      ///< the step's position in the run
  friend bool operator==(const artifact_provenance&, const artifact_provenance&) = default;
};

/// One listing of list(): a put, as it was stored.
struct artifact_entry {
  std::string name;
  std::string hash;            ///< SHA-256 hex: get(hash) returns the bytes
  std::uint64_t size = 0;
  artifact_provenance provenance;
  std::int64_t at_ms = 0;      ///< when it was put (Unix ms)
  friend bool operator==(const artifact_entry&, const artifact_entry&) = default;
};

struct artifact_options {
  /// The largest artifact put() accepts. Every commit passes through the
  /// journal's one writer thread and one LMDB transaction, so a blob is
  /// copied three times (envelope, LMDB page, reader) and holds up every
  /// run's commits while it is written: at this disk's ~100 MB/s, 16 MiB is
  /// about 0.15 s. Bigger files belong in the task's workspace (git).
  /// Default: 16 MiB.
  std::size_t max_bytes = std::size_t{16} << 20;
};

/// Whether `name` is a valid artifact name: 1 to 255 bytes, no control
/// characters (names are shown in listings, one a line).
bool valid_artifact_name(std::string_view name) noexcept;

class artifact_store {
public:
  explicit artifact_store(journal& store, artifact_options options = {});

  /// Stores `bytes` as artifact `name` of `task` and returns its id (the
  /// SHA-256 hex of the bytes). The blob row is written only if no blob of
  /// that hash is there (or the one there is damaged: it is repaired); the
  /// listing is added, or, when this task, name and provenance were put
  /// before, updated in place. Errors: invalid_argument (task not a
  /// state::valid_id, bad name, bytes over max_bytes: the message says
  /// which and the limit), the journal's (map_full, io_error, ...).
  expected<std::string> put(std::string_view task, std::string_view name, std::string_view bytes,
                            const artifact_provenance& provenance);

  /// The bytes of artifact `hash`, checked against it. Errors:
  /// invalid_argument (not 64 lowercase hex digits), not_found (no such
  /// blob), corrupt_record (the blob is damaged: never wrong bytes; putting
  /// the same bytes again repairs it), the journal's.
  expected<std::string> get(std::string_view hash) const;

  /// Every listing of `task`, in put order. A damaged listing row is
  /// skipped and logged, not fatal (one bad row must not hide the rest).
  /// Errors: invalid_argument (bad task id), the journal's.
  expected<std::vector<artifact_entry>> list(std::string_view task) const;

  const artifact_options& options() const noexcept { return opts_; }

private:
  journal* store_;
  artifact_options opts_;
};

} // namespace endure::state
