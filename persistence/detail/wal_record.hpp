// What one record of the write-ahead log holds (persistence/FORMAT.md,
// "The write-ahead log"): the batches of one LMDB commit of
// durability::wal, in the order the commit applied them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure::detail {

/// u32 count, then each batch as u32 length + write_batch_codec bytes.
std::string encode_wal_record(const std::vector<const write_batch*>& batches);

/// Errors: corrupt_record (cut short), or the codec's for a batch.
expected<std::vector<write_batch>> decode_wal_record(std::string_view bytes);

} // namespace endure::detail
