// write_batch <-> bytes (write_batch_codec.hpp).
#include "endure/persistence/write_batch_codec.hpp"

#include <algorithm>
#include <msgpack.hpp>

#include "endure/persistence/detail/row_condition.hpp"
#include "endure/persistence/detail/string_buffer.hpp"

namespace endure {

namespace {

/// 2: put_row's number may be a row condition (2: put_row_if), which a
/// build reading format 1 would apply as a plain put.
constexpr std::uint8_t codec_format = 2;
constexpr std::size_t op_fields = 7;
/// Depth 3, no map, one batch of up to 1 GiB in bins and strings.
const msgpack::unpack_limit batch_limits{1u << 24, 0, 1u << 30, 1u << 30, 0, 3};

error damaged(const std::string& why) {
  return make_error(errc::corrupt_record, "a replicated write batch is damaged: " + why);
}

bool valid_kind(std::uint64_t k) {
  return k <= static_cast<std::uint64_t>(write_batch::op_kind::erase_row);
}
bool valid_status(std::uint64_t s) {
  return s >= static_cast<std::uint64_t>(run_status::running)
         && s <= static_cast<std::uint64_t>(run_status::quarantined);
}
bool valid_table(std::uint64_t t) {
  return std::any_of(std::begin(all_side_tables), std::end(all_side_tables),
                     [t](side_table known) { return static_cast<std::uint64_t>(known) == t; });
}

std::string_view raw_bytes(const msgpack::object& o) {
  if (o.type == msgpack::type::BIN)
    return {o.via.bin.ptr, o.via.bin.size};
  return {o.via.str.ptr, o.via.str.size};
}

bool is_bytes(const msgpack::object& o) {
  return o.type == msgpack::type::BIN || o.type == msgpack::type::STR;
}

expected<write_batch::op> decode_op(const msgpack::object& o, std::size_t index) {
  auto where = " (op " + std::to_string(index) + ")";
  if (o.type != msgpack::type::ARRAY || o.via.array.size != op_fields)
    return damaged("an op is not an array of " + std::to_string(op_fields) + where);
  auto* f = o.via.array.ptr;
  auto is_uint = [](const msgpack::object& x) {
    return x.type == msgpack::type::POSITIVE_INTEGER;
  };
  auto is_int = [](const msgpack::object& x) {
    return (x.type == msgpack::type::POSITIVE_INTEGER
            && x.via.u64 <= static_cast<std::uint64_t>(INT64_MAX))
           || x.type == msgpack::type::NEGATIVE_INTEGER;
  };
  if (!is_uint(f[0]) || !is_bytes(f[1]) || !is_uint(f[2]) || !is_int(f[3]) || !is_bytes(f[4])
      || !is_uint(f[5]) || !is_uint(f[6]))
    return damaged("an op field has the wrong type" + where);
  if (!valid_kind(f[0].via.u64) || !valid_status(f[5].via.u64) || !valid_table(f[6].via.u64))
    return damaged("unknown op kind, run status or table" + where);
  // A condition this build does not know would be applied as a plain put.
  if (f[0].via.u64 == static_cast<std::uint64_t>(write_batch::op_kind::put_row)
      && f[2].via.u64 > detail::row_if_hash)
    return damaged("unknown row condition " + std::to_string(f[2].via.u64) + where);
  write_batch::op op;
  op.kind = static_cast<write_batch::op_kind>(f[0].via.u64);
  op.run_id = std::string{raw_bytes(f[1])};
  op.number = f[2].via.u64;
  op.time_ms = f[3].type == msgpack::type::NEGATIVE_INTEGER ? f[3].via.i64
                                                             : static_cast<std::int64_t>(f[3].via.u64);
  op.bytes = std::string{raw_bytes(f[4])};
  op.status = static_cast<run_status>(f[5].via.u64);
  op.table = static_cast<side_table>(f[6].via.u64);
  return op;
}

} // namespace

std::string encode_batch(const write_batch& batch) {
  detail::string_buffer buf;
  msgpack::packer<detail::string_buffer> pk(buf);
  pk.pack_array(2);
  pk.pack_uint8(codec_format);
  pk.pack_array(static_cast<std::uint32_t>(batch.ops().size()));
  for (auto& op : batch.ops()) {
    pk.pack_array(op_fields);
    pk.pack_uint8(static_cast<std::uint8_t>(op.kind));
    pk.pack_bin(static_cast<std::uint32_t>(op.run_id.size()));
    pk.pack_bin_body(op.run_id.data(), static_cast<std::uint32_t>(op.run_id.size()));
    pk.pack_uint64(op.number);
    pk.pack_int64(op.time_ms);
    pk.pack_bin(static_cast<std::uint32_t>(op.bytes.size()));
    pk.pack_bin_body(op.bytes.data(), static_cast<std::uint32_t>(op.bytes.size()));
    pk.pack_uint8(static_cast<std::uint8_t>(op.status));
    pk.pack_uint8(static_cast<std::uint8_t>(op.table));
  }
  return std::move(buf.bytes);
}

expected<write_batch> decode_batch(std::string_view bytes) {
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, batch_limits);
  } catch (const std::exception& e) {
    return damaged(std::string{"not msgpack: "} + e.what());
  }
  auto& top = handle.get();
  if (top.type != msgpack::type::ARRAY || top.via.array.size != 2
      || top.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER
      || top.via.array.ptr[1].type != msgpack::type::ARRAY)
    return damaged("not [format, ops]");
  if (top.via.array.ptr[0].via.u64 != codec_format)
    return make_error(errc::newer_record_version,
                      "a replicated write batch has format "
                        + std::to_string(top.via.array.ptr[0].via.u64) + "; this build reads "
                        + std::to_string(codec_format) + ": run the same endure on every node");
  auto& ops = top.via.array.ptr[1].via.array;
  write_batch batch;
  try {  // decode_op checks every type first; this is the last line of defence
    for (std::uint32_t i = 0; i < ops.size; ++i) {
      auto op = decode_op(ops.ptr[i], i);
      if (!op)
        return std::move(op).error();
      batch.push_op(std::move(*op));
    }
  } catch (const std::exception& e) {
    return damaged(e.what());
  }
  return batch;
}

} // namespace endure
