// Key grammar of the LMDB databases (documented in persistence/FORMAT.md).
//
//   journal:   run_id 0x00 seq(u64 big-endian)
//   timers:    due_ms(i64 big-endian, sign bit flipped) run_id 0x00 id(u64 BE)
//   runs, snapshots: run_id
//
// Big-endian numbers make byte order equal numeric order, so a cursor walk is
// replay order (journal) or due order (timers).
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

/// Prefix shared by every journal key of `run_id`.
inline std::string journal_prefix(std::string_view run_id) {
  std::string k;
  k.reserve(run_id.size() + 9);
  k.append(run_id);
  k.push_back('\0');
  return k;
}

inline std::string journal_key(std::string_view run_id, std::uint64_t seq) {
  auto k = journal_prefix(run_id);
  put_be64(k, seq);
  return k;
}

/// True if `key` is a journal key of the run whose prefix is `prefix`.
inline bool has_prefix(std::string_view key, std::string_view prefix) {
  return key.size() == prefix.size() + 8 && key.substr(0, prefix.size()) == prefix;
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
