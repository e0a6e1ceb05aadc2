// A msgpack output stream that appends to a std::string (msgpack::packer
// writes through any type with write(data, size)). Packing into
// msgpack::sbuffer and copying its bytes into a string cost one more
// allocation and copy for every record, step result and input.
#pragma once

#include <cstddef>
#include <string>

namespace endure::detail {

struct string_buffer {
  std::string bytes;
  void write(const char* data, std::size_t size) { bytes.append(data, size); }
};

} // namespace endure::detail
