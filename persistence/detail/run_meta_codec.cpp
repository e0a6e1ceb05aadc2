// msgpack payloads of the runs and snapshots databases, inside the common
// record envelope so they carry a checksum and a schema version too.
#include "endure/persistence/detail/run_meta_codec.hpp"

#include <msgpack.hpp>

#include "endure/persistence/detail/string_buffer.hpp"

namespace endure::detail {

namespace {

const msgpack::unpack_limit payload_limits{8, 0, 1u << 20, 1u << 30, 0, 2};

error bad_payload(std::string_view what, std::string_view run_id,
                  const std::string& why) {
  return make_error(errc::corrupt_record, std::string{what} + " of run "
                                            + std::string{run_id}
                                            + " is damaged (" + why + ")");
}

} // namespace

void register_persistence_types(record_types& types) {
  types.add(record_tag_run_meta, 1, "run_meta");
  types.add(record_tag_snapshot, 1, "snapshot");
}

std::string encode_run_meta(const run_meta& m) {
  string_buffer buf;
  msgpack::packer<string_buffer> pk(buf);
  pk.pack_array(6);
  pk.pack(m.id);
  pk.pack(m.workflow);
  pk.pack_uint8(static_cast<std::uint8_t>(m.status));
  pk.pack_int64(m.created_at_ms);
  pk.pack_int64(m.updated_at_ms);
  pk.pack(m.detail);
  return encode_record({record_tag_run_meta, 1, std::move(buf.bytes)});
}

expected<run_meta> decode_run_meta(std::string_view bytes, std::string_view run_id) {
  record_types types;
  register_persistence_types(types);
  auto rec = decode_record(bytes, {run_id, 0}, types);
  if (!rec)
    return std::move(rec).error();
  if (rec->tag != record_tag_run_meta)
    return bad_payload("metadata", run_id, "wrong record type");
  try {
    auto h = msgpack::unpack(rec->payload.data(), rec->payload.size(), nullptr,
                             nullptr, payload_limits);
    auto& o = h.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size < 6)
      return bad_payload("metadata", run_id, "not a 6-element array");
    auto* it = o.via.array.ptr;
    run_meta m;
    m.id = it[0].as<std::string>();
    m.workflow = it[1].as<std::string>();
    m.status = static_cast<run_status>(it[2].as<std::uint8_t>());
    m.created_at_ms = it[3].as<std::int64_t>();
    m.updated_at_ms = it[4].as<std::int64_t>();
    m.detail = it[5].as<std::string>();
    return m;
  } catch (const std::exception& e) {
    return bad_payload("metadata", run_id, e.what());
  }
}

std::string encode_snapshot(std::uint64_t seq, std::string_view state) {
  string_buffer buf;
  msgpack::packer<string_buffer> pk(buf);
  pk.pack_array(2);
  pk.pack_uint64(seq);
  pk.pack_bin(static_cast<std::uint32_t>(state.size()));
  pk.pack_bin_body(state.data(), static_cast<std::uint32_t>(state.size()));
  return encode_record({record_tag_snapshot, 1, std::move(buf.bytes)});
}

expected<std::pair<std::uint64_t, std::string>>
decode_snapshot(std::string_view bytes, std::string_view run_id) {
  record_types types;
  register_persistence_types(types);
  auto rec = decode_record(bytes, {run_id, 0}, types);
  if (!rec)
    return std::move(rec).error();
  try {
    auto h = msgpack::unpack(rec->payload.data(), rec->payload.size(), nullptr,
                             nullptr, payload_limits);
    auto& o = h.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2
        || o.via.array.ptr[1].type != msgpack::type::BIN)
      return bad_payload("snapshot", run_id, "not [seq, bin]");
    auto& bin = o.via.array.ptr[1].via.bin;
    return std::pair{o.via.array.ptr[0].as<std::uint64_t>(),
                     std::string(bin.ptr, bin.size)};
  } catch (const std::exception& e) {
    return bad_payload("snapshot", run_id, e.what());
  }
}

} // namespace endure::detail
