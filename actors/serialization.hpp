// How step results, inputs and signal payloads become journal bytes:
// msgpack. Any type msgpack can pack works as a step result (standard
// containers, strings, numbers; your own structs with MSGPACK_DEFINE).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include <msgpack.hpp>

#include "endure/persistence/detail/string_buffer.hpp"
#include "endure/persistence/failure.hpp"

namespace endure {

/// XXH3-64 of `bytes` (input hashes of steps).
std::uint64_t hash_bytes(std::string_view bytes) noexcept;

template <class T>
std::string to_bytes(const T& value) {
  detail::string_buffer buf;
  msgpack::pack(buf, value);
  return std::move(buf.bytes);
}

/// The bytes of "no value" (msgpack nil): results of void steps.
inline std::string nil_bytes() { return std::string(1, '\xc0'); }

/// Unpacks a journaled value. A value that no longer decodes as T (the
/// workflow's types changed under a live run) throws endure::fatal_error.
template <class T>
T from_bytes(std::string_view bytes) {
  try {
    auto h = msgpack::unpack(bytes.data(), bytes.size());
    return h.get().as<T>();
  } catch (const std::exception& e) {
    throw fatal_error(std::string{"journaled value does not decode as the type the "
                                  "workflow asks for ("}
                      + e.what() + "); was the workflow changed under a live run?");
  }
}

} // namespace endure
