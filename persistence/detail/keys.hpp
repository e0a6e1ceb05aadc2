// Key grammar of the LMDB databases (documented in persistence/FORMAT.md).
//
//   log:       0xff position(u64 big-endian), in the main database
//              (log_entry.hpp: position_key)
//   timers:    due_ms(i64 big-endian, sign bit flipped) run_id 0x00 id(u64 BE)
//   runs, heads, snapshots: run_id
//   meta:      "layout", "heads_through"
//
// Big-endian numbers make byte order equal numeric order, so the log only
// grows at its right edge (MDB_APPEND) and a timers walk is due order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace endure::detail {

inline void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline std::uint64_t get_be64(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

inline std::string timer_key(std::int64_t due_ms, std::string_view run_id,
                             std::uint64_t id) {
  std::string k;
  k.reserve(run_id.size() + 17);
  // Flipping the sign bit orders negative times before positive ones.
  put_be64(k, static_cast<std::uint64_t>(due_ms) ^ (std::uint64_t{1} << 63));
  k.append(run_id);
  k.push_back('\0');
  put_be64(k, id);
  return k;
}

struct timer_key_parts {
  std::int64_t due_ms;
  std::string_view run_id;
  std::uint64_t id;
};

/// Splits a timer key; false if it is malformed.
inline bool parse_timer_key(std::string_view k, timer_key_parts& out) {
  if (k.size() < 8 + 1 + 8 || k[k.size() - 9] != '\0')
    return false;
  out.due_ms = static_cast<std::int64_t>(get_be64(k) ^ (std::uint64_t{1} << 63));
  out.run_id = k.substr(8, k.size() - 17);
  out.id = get_be64(k.substr(k.size() - 8));
  return true;
}

} // namespace endure::detail
