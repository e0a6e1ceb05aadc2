// The journaled sources of non-determinism: time, randomness, ids. Each is
// computed once, live, by the host and replayed from the journal after.
#include "actors/context.hpp"

#include <random>

namespace endure {

namespace {

std::uint64_t fresh_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

std::string format_uuid(std::uint64_t hi, std::uint64_t lo) {
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

} // namespace

op_awaiter<std::int64_t> context::now() {
  return value_op<std::int64_t>("now", [] {
    auto t = std::chrono::system_clock::now().time_since_epoch();
    return to_bytes(std::chrono::duration_cast<std::chrono::milliseconds>(t).count());
  });
}

op_awaiter<std::uint64_t> context::random() {
  return value_op<std::uint64_t>("random", [] { return to_bytes(fresh_random()); });
}

op_awaiter<std::string> context::uuid() {
  return value_op<std::string>("uuid", [] {
    return to_bytes(format_uuid(fresh_random(), fresh_random()));
  });
}

} // namespace endure
