// A journal record and its on-disk envelope (see persistence/FORMAT.md).
//
// The persistence layer treats a record's payload as opaque bytes (msgpack
// written by the layer above); it owns the envelope around them: format
// version, type tag, schema version and an XXH3-64 checksum. Encoding happens
// on the caller's thread, so the single writer only copies bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure {

/// The envelope's own layout version. Bumped only if the envelope changes.
inline constexpr std::uint8_t envelope_format_version = 1;

/// A decoded record: what it is (tag), which layout its payload has (schema
/// version) and the payload bytes.
struct record {
  std::uint16_t tag = 0;
  std::uint16_t schema_version = 1;
  std::string payload;

  friend bool operator==(const record&, const record&) = default;
};

/// Where a record sits, for error messages ("run r1 seq 5").
struct record_location {
  std::string_view run_id;
  std::uint64_t seq = 0;
  /// Replaces "run R seq N" in messages where the record is not in a run's
  /// log (a side table row: "requests row K").
  std::string_view label{};
};

/// The set of tags and the newest schema version of each that a reader
/// understands. Tags are registered by the layers above (workflow events,
/// run metadata, ...). Reads return errc::unknown_record_type for any tag
/// not known and errc::newer_record_version for a schema above the known one.
class record_types {
public:
  /// Declares `tag` known up to `newest_schema`.
  void add(std::uint16_t tag, std::uint16_t newest_schema, std::string name);
  /// Newest schema known for `tag`, or 0 if unknown.
  std::uint16_t newest_schema(std::uint16_t tag) const noexcept;
  /// Registered name of `tag`, or "tag N".
  std::string name(std::uint16_t tag) const;

private:
  struct entry {
    std::uint16_t tag;
    std::uint16_t newest_schema;
    std::string name;
  };
  std::vector<entry> entries_;
};

/// Serializes `r` into its envelope (never fails).
std::string encode_record(const record& r);

/// Parses an envelope. Checks, in order: length and checksum, envelope
/// format version, msgpack structure, tag known and schema not newer than
/// `known`. Every failure names `where`. Never throws, never guesses.
expected<record> decode_record(std::string_view bytes, record_location where,
                               const record_types& known);

} // namespace endure
