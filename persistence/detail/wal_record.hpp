// What one record of the write-ahead log holds (persistence/FORMAT.md,
// "The write-ahead log"): one LMDB commit of durability::wal, as the LMDB
// transaction id it took and the batches it applied.
//
// Every commit LMDB takes in wal mode has a record, flushed before the
// commit: so data.mdb can never be at a transaction past the log's last
// record unless something other than this log's writer wrote it, which
// recovery checks before it rewrites anything. A record without batches
// marks a commit the log does not hold (a batch larger than the ring,
// made durable by a checkpoint before it is acknowledged; the heads
// checkpoint at close).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure::detail {

struct wal_record {
  std::uint64_t lmdb_txnid = 0;
  std::vector<write_batch> batches;
};

/// u64 transaction id, u32 count, then each batch as u32 length +
/// write_batch_codec bytes.
std::string encode_wal_record(std::uint64_t lmdb_txnid,
                              const std::vector<const write_batch*>& batches);

/// Errors: corrupt_record (cut short), or the codec's for a batch.
expected<wal_record> decode_wal_record(std::string_view bytes);

/// The transaction id alone; the batches are not decoded.
expected<std::uint64_t> wal_record_txnid(std::string_view bytes);

} // namespace endure::detail
