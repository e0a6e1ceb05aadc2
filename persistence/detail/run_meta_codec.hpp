// Encoding of run_meta rows (a record with tag record_tag_run_meta).
#pragma once

#include <string>
#include <string_view>

#include "endure/persistence/record.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::detail {

/// Tags 1..15 are reserved for the persistence layer itself.
inline constexpr std::uint16_t record_tag_run_meta = 1;
inline constexpr std::uint16_t record_tag_snapshot = 2;

/// The envelope bytes of `meta`.
std::string encode_run_meta(const run_meta& meta);
/// Decodes a runs-database value; errors name the run.
expected<run_meta> decode_run_meta(std::string_view bytes, std::string_view run_id);

/// Snapshot value: envelope around [seq, state].
std::string encode_snapshot(std::uint64_t seq, std::string_view state);
expected<std::pair<std::uint64_t, std::string>>
decode_snapshot(std::string_view bytes, std::string_view run_id);

/// Adds the persistence layer's own tags to `types`.
void register_persistence_types(record_types& types);

} // namespace endure::detail
