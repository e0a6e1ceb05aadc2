// hash_bytes: XXH3-64, kept out of the header so xxhash.h stays internal.
#include "endure/actors/serialization.hpp"

#include <xxhash.h>

namespace endure {

std::uint64_t hash_bytes(std::string_view bytes) noexcept {
  return XXH3_64bits(bytes.data(), bytes.size());
}

} // namespace endure
