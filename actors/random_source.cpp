// random_source over getrandom(2) (see detail/random_source.hpp).
#include "endure/actors/detail/random_source.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace endure::detail {

namespace {

/// Fills `buf` from the OS; retries when interrupted. getrandom blocks only
/// before the kernel's pool is initialised, at early boot.
void fill(void* buf, std::size_t size) {
  auto* out = static_cast<unsigned char*>(buf);
  while (size > 0) {
    auto n = ::getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error(std::string{"getrandom failed: "} + std::strerror(errno));
    }
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

} // namespace

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  fill(&v, sizeof v);
  return v;
}

std::string random_uuid() {
  unsigned char b[16];
  fill(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return text;
}

} // namespace endure::detail
