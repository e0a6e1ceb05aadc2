// Randomness for the journaled values ctx.random() and ctx.uuid(): drawn
// from the operating system (getrandom), so ids are as unique as RFC 4122
// version 4 promises (122 random bits), whatever process, thread or fork
// draws them. A per-thread generator seeded with 32 bits would give at most
// 2^32 different id sequences, and a forked child would repeat its parent's.
// Any thread. Internal (tests call it directly).
#pragma once

#include <cstdint>
#include <string>

namespace endure::detail {

/// 64 random bits from the OS.
std::uint64_t random_u64();

/// A random RFC 4122 version 4 UUID, lower-case text
/// ("xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx").
std::string random_uuid();

} // namespace endure::detail
