#include "endure/persistence/detail/wal_record.hpp"

#include "endure/persistence/detail/little_endian.hpp"
#include "endure/persistence/write_batch_codec.hpp"

namespace endure::detail {

std::string encode_wal_record(const std::vector<const write_batch*>& batches) {
  std::string out;
  put_le(out, static_cast<std::uint32_t>(batches.size()));
  for (auto* b : batches) {
    auto bytes = encode_batch(*b);
    put_le(out, static_cast<std::uint32_t>(bytes.size()));
    out += bytes;
  }
  return out;
}

expected<std::vector<write_batch>> decode_wal_record(std::string_view in) {
  auto cut_short = [] {
    return make_error(errc::corrupt_record, "a write-ahead log record is cut short");
  };
  std::vector<write_batch> out;
  std::uint32_t count = 0;
  if (!get_le(in, count))
    return cut_short();
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t size = 0;
    if (!get_le(in, size) || in.size() < size)
      return cut_short();
    auto batch = decode_batch(in.substr(0, size));
    if (!batch)
      return std::move(batch).error();
    out.push_back(std::move(*batch));
    in.remove_prefix(size);
  }
  return out;
}

} // namespace endure::detail
