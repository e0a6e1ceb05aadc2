// The condition a put_row op carries (write_batch::put_row, put_row_if), as
// op.number: shared by the batch that builds the op, the writer that
// applies it and the replication codec that carries it. Internal.
#pragma once

#include <cstdint>
#include <string_view>

namespace endure::detail {

/// Replaces any row there.
inline constexpr std::uint64_t row_always = 0;
/// Fails the batch if a row is there.
inline constexpr std::uint64_t row_if_absent = 1;
/// Written only if the stored row's envelope_hash is op.time_ms (as bits).
inline constexpr std::uint64_t row_if_hash = 2;

/// XXH3-64 of a row's stored bytes (its whole envelope).
std::uint64_t envelope_hash(std::string_view envelope) noexcept;

} // namespace endure::detail
