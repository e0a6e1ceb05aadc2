// Damaging stored bytes the way a failing disk would, for corruption tests.
#pragma once

#include <cstddef>
#include <string>

namespace endure::test {

/// Flips the lowest bit of the byte `offset` bytes from the start of every
/// occurrence of `marker` in `file` (besides the live page, older copies of
/// a page that LMDB's copy-on-write freed may hold it too). Returns how
/// many occurrences were damaged.
std::size_t flip_bit_near(const std::string& file, const std::string& marker, long offset);

} // namespace endure::test
