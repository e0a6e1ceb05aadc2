#include "endure/persistence/detail/wal_record.hpp"

#include "endure/persistence/detail/little_endian.hpp"
#include "endure/persistence/write_batch_codec.hpp"

namespace endure::detail {

namespace {

error cut_short() {
  return make_error(errc::corrupt_record, "a write-ahead log record is cut short");
}

} // namespace

std::string encode_wal_record(std::uint64_t lmdb_txnid,
                              const std::vector<const write_batch*>& batches) {
  std::string out;
  put_le(out, lmdb_txnid);
  put_le(out, static_cast<std::uint32_t>(batches.size()));
  for (auto* b : batches) {
    auto bytes = encode_batch(*b);
    put_le(out, static_cast<std::uint32_t>(bytes.size()));
    out += bytes;
  }
  return out;
}

expected<std::uint64_t> wal_record_txnid(std::string_view bytes) {
  std::uint64_t txnid = 0;
  if (!get_le(bytes, txnid))
    return cut_short();
  return txnid;
}

expected<wal_record> decode_wal_record(std::string_view in) {
  wal_record out;
  std::uint32_t count = 0;
  if (!get_le(in, out.lmdb_txnid) || !get_le(in, count))
    return cut_short();
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t size = 0;
    if (!get_le(in, size) || in.size() < size)
      return cut_short();
    auto batch = decode_batch(in.substr(0, size));
    if (!batch)
      return std::move(batch).error();
    out.batches.push_back(std::move(*batch));
    in.remove_prefix(size);
  }
  return out;
}

} // namespace endure::detail
