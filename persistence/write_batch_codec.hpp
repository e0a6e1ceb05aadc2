// A write batch as bytes: how a batch travels to a standby node (the
// cluster's replication stream, net/cluster/replication/) and is applied
// there to a replica journal exactly as it was to the owner's.
//
// Format: msgpack [1, [[kind, key, number, time_ms, bytes (bin), status,
// table], ...]], one inner array per write_batch::op, in batch order.
#pragma once

#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure {

std::string encode_batch(const write_batch& batch);

/// The batch encode_batch wrote. Errors: corrupt_record naming what is
/// wrong (not msgpack, a newer format, an unknown op kind, status or table,
/// a wrong field type); nothing is applied from a batch that fails here.
expected<write_batch> decode_batch(std::string_view bytes);

} // namespace endure
