// Log entry and run head codecs (layout 3, see persistence/FORMAT.md).
//
//   log entry: format u8 | seq u64 | prev u64 | n u8 | run id (n bytes)
//              | XXH3-64(all of the above, seed = position) u64 | envelope
//   head:      last_pos u64 | last_seq u64 | low_seq u64
//              | XXH3-64(those 24 bytes, seed = XXH3-64(run id)) u64
// All numbers big-endian. Seeding with the position binds an entry to its
// key (a flipped key bit cannot pass for another entry); seeding with the
// run id binds a head to its run.
#include "endure/persistence/detail/log_entry.hpp"

#include <xxhash.h>

#include <cstring>

#include "endure/persistence/detail/keys.hpp"

namespace endure::detail {

namespace {

constexpr std::size_t fixed_header = 1 + 8 + 8 + 1;  // before the run id
constexpr std::size_t check_size = 8;

void store_be64(char* out, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[i] = static_cast<char>(v & 0xff);
}

std::uint64_t head_seed(std::string_view run_id) noexcept {
  return XXH3_64bits(run_id.data(), run_id.size());
}

} // namespace

constexpr char log_key_prefix = '\xff';
constexpr std::size_t log_key_size = 1 + 8;

std::string position_key(std::uint64_t position) {
  std::string k;
  k.reserve(log_key_size);
  k.push_back(log_key_prefix);
  put_be64(k, position);
  return k;
}

bool position_of_key(std::string_view key, std::uint64_t& position) noexcept {
  if (key.size() != log_key_size || key[0] != log_key_prefix)
    return false;
  position = get_be64(key.substr(1));
  return true;
}

bool peek_log_entry(std::string_view bytes, log_entry& out) noexcept {
  if (bytes.size() < fixed_header)
    return false;
  auto n = static_cast<unsigned char>(bytes[17]);
  if (n == 0 || bytes.size() < fixed_header + n + check_size)
    return false;
  out.seq = get_be64(bytes.substr(1));
  out.prev = get_be64(bytes.substr(9));
  out.run_id = bytes.substr(fixed_header, n);
  out.envelope = bytes.substr(fixed_header + n + check_size);
  return true;
}

std::size_t log_entry_size(const log_entry& e) noexcept {
  return fixed_header + e.run_id.size() + check_size + e.envelope.size();
}

void encode_log_entry(std::uint64_t position, const log_entry& e, char* out) noexcept {
  out[0] = static_cast<char>(log_entry_format);
  store_be64(out + 1, e.seq);
  store_be64(out + 9, e.prev);
  out[17] = static_cast<char>(e.run_id.size());  // run ids are 1..200 bytes
  std::memcpy(out + fixed_header, e.run_id.data(), e.run_id.size());
  auto header = fixed_header + e.run_id.size();
  store_be64(out + header, XXH3_64bits_withSeed(out, header, position));
  std::memcpy(out + header + check_size, e.envelope.data(), e.envelope.size());
}

bool decode_log_entry(std::uint64_t position, std::string_view bytes, log_entry& out,
                      std::string& why) {
  if (bytes.size() < fixed_header + check_size) {
    why = "entry of only " + std::to_string(bytes.size()) + " bytes";
    return false;
  }
  auto n = static_cast<unsigned char>(bytes[17]);
  auto header = fixed_header + n;
  if (n == 0 || bytes.size() < header + check_size) {
    why = "run id length " + std::to_string(n) + " does not fit the entry";
    return false;
  }
  if (XXH3_64bits_withSeed(bytes.data(), header, position)
      != get_be64(bytes.substr(header))) {
    why = "entry header checksum mismatch";
    return false;
  }
  if (static_cast<unsigned char>(bytes[0]) != log_entry_format) {
    why = "unknown log entry format " + std::to_string(static_cast<unsigned char>(bytes[0]));
    return false;
  }
  out.seq = get_be64(bytes.substr(1));
  out.prev = get_be64(bytes.substr(9));
  out.run_id = bytes.substr(fixed_header, n);
  out.envelope = bytes.substr(header + check_size);
  return true;
}

void encode_run_head(std::string_view run_id, const run_head& h, char* out) noexcept {
  store_be64(out, h.last_pos);
  store_be64(out + 8, h.last_seq);
  store_be64(out + 16, h.low_seq);
  store_be64(out + 24, XXH3_64bits_withSeed(out, 24, head_seed(run_id)));
}

bool decode_run_head(std::string_view run_id, std::string_view bytes, run_head& out,
                     std::string& why) {
  if (bytes.size() != run_head_size) {
    why = "head of " + std::to_string(bytes.size()) + " bytes, expected "
          + std::to_string(run_head_size);
    return false;
  }
  if (XXH3_64bits_withSeed(bytes.data(), 24, head_seed(run_id)) != get_be64(bytes.substr(24))) {
    why = "head checksum mismatch";
    return false;
  }
  out.last_pos = get_be64(bytes);
  out.last_seq = get_be64(bytes.substr(8));
  out.low_seq = get_be64(bytes.substr(16));
  return true;
}

} // namespace endure::detail
