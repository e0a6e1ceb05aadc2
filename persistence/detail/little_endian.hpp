// Little-endian integers in byte strings: the write-ahead log's encoding
// (persistence/FORMAT.md, "The write-ahead log").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace endure::detail {

template <class T>
void put_le(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
}

/// Reads a T from the front of `in` and drops its bytes; false (and `in`
/// unchanged) when `in` is shorter.
template <class T>
bool get_le(std::string_view& in, T& v) {
  if (in.size() < sizeof(T))
    return false;
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    x |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  v = static_cast<T>(x);
  in.remove_prefix(sizeof(T));
  return true;
}

} // namespace endure::detail
