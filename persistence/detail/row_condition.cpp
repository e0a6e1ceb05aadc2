// Row conditions (row_condition.hpp).
#include "endure/persistence/detail/row_condition.hpp"

#include <xxhash.h>

namespace endure::detail {

std::uint64_t envelope_hash(std::string_view envelope) noexcept {
  return XXH3_64bits(envelope.data(), envelope.size());
}

} // namespace endure::detail
