// Record envelope: msgpack array [format, tag, schema, payload(bin), xxh3]
// where the checksum is a fixed 9-byte uint64 (0xcf + 8 bytes big-endian)
// over every byte before it. Checked before any msgpack parsing, so a
// damaged record is never half-decoded.
#include "endure/persistence/record.hpp"

#include <msgpack.hpp>
#include <xxhash.h>

#include "endure/persistence/detail/string_buffer.hpp"

namespace endure {

namespace {

constexpr std::size_t checksum_size = 9;  // 0xcf marker + 8 bytes

std::string where_text(record_location where) {
  if (!where.label.empty())
    return std::string{where.label};
  return "run " + std::string{where.run_id} + " seq " + std::to_string(where.seq);
}

error damaged(record_location where, const std::string& why) {
  return make_error(errc::corrupt_record,
                    where_text(where) + ": record is damaged (" + why
                      + "); the run cannot be replayed past it. Restore the "
                        "data directory from a backup or cancel the run.");
}

std::uint64_t read_be64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Unpack limits: an envelope is 5 items, one bin; nothing else may be
// allocated however the bytes claim otherwise.
const msgpack::unpack_limit envelope_limits{5, 0, 0, 1u << 30, 0, 2};

} // namespace

void record_types::add(std::uint16_t tag, std::uint16_t newest_schema,
                       std::string name) {
  for (auto& e : entries_) {
    if (e.tag == tag) {
      e.newest_schema = newest_schema;
      e.name = std::move(name);
      return;
    }
  }
  entries_.push_back({tag, newest_schema, std::move(name)});
}

std::uint16_t record_types::newest_schema(std::uint16_t tag) const noexcept {
  for (auto& e : entries_)
    if (e.tag == tag)
      return e.newest_schema;
  return 0;
}

std::string record_types::name(std::uint16_t tag) const {
  for (auto& e : entries_)
    if (e.tag == tag)
      return e.name;
  return "tag " + std::to_string(tag);
}

std::string encode_record(const record& r) {
  detail::string_buffer buf;
  buf.bytes.reserve(r.payload.size() + 32);
  msgpack::packer<detail::string_buffer> pk(buf);
  pk.pack_array(5);
  pk.pack_uint8(envelope_format_version);
  pk.pack_uint16(r.tag);
  pk.pack_uint16(r.schema_version);
  pk.pack_bin(static_cast<std::uint32_t>(r.payload.size()));
  pk.pack_bin_body(r.payload.data(), static_cast<std::uint32_t>(r.payload.size()));
  auto sum = XXH3_64bits(buf.bytes.data(), buf.bytes.size());
  pk.pack_fix_uint64(sum);
  return std::move(buf.bytes);
}

expected<record> decode_record(std::string_view bytes, record_location where,
                               const record_types& known) {
  if (bytes.size() < checksum_size + 6)
    return damaged(where, "only " + std::to_string(bytes.size()) + " bytes");
  auto body = bytes.size() - checksum_size;
  if (static_cast<unsigned char>(bytes[body]) != 0xcf)
    return damaged(where, "checksum marker missing");
  if (XXH3_64bits(bytes.data(), body) != read_be64(bytes.data() + body + 1))
    return damaged(where, "checksum mismatch");
  record out;
  try {
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr,
                                  envelope_limits);
    auto& arr = handle.get();
    if (arr.type != msgpack::type::ARRAY || arr.via.array.size != 5)
      return damaged(where, "envelope is not a 5-element array");
    auto* items = arr.via.array.ptr;
    auto format = items[0].as<unsigned>();
    if (format > envelope_format_version)
      return make_error(errc::newer_record_version,
                        where_text(where) + ": envelope format "
                          + std::to_string(format)
                          + " is newer than this build reads ("
                          + std::to_string(envelope_format_version)
                          + "); upgrade endure to read this journal");
    out.tag = items[1].as<std::uint16_t>();
    out.schema_version = items[2].as<std::uint16_t>();
    if (items[3].type != msgpack::type::BIN)
      return damaged(where, "payload is not binary");
    out.payload.assign(items[3].via.bin.ptr, items[3].via.bin.size);
  } catch (const std::exception& e) {
    return damaged(where, std::string{"malformed envelope: "} + e.what());
  }
  auto newest = known.newest_schema(out.tag);
  if (newest == 0)
    return make_error(errc::unknown_record_type,
                      where_text(where) + ": unknown record type "
                        + std::to_string(out.tag)
                        + "; it was written by a build that knows more record "
                          "types: upgrade endure to read this journal");
  if (out.schema_version > newest)
    return make_error(errc::newer_record_version,
                      where_text(where) + ": " + known.name(out.tag)
                        + " record has schema version "
                        + std::to_string(out.schema_version)
                        + ", this build reads up to "
                        + std::to_string(newest)
                        + "; upgrade endure to read this journal");
  return out;
}

} // namespace endure
