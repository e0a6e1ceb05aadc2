// The journaled sources of non-determinism: time, randomness, ids. Each is
// computed once, live, by the host and replayed from the journal after.
#include "endure/actors/context.hpp"

#include "endure/actors/detail/random_source.hpp"

namespace endure {

op_awaiter<std::int64_t> context::now() {
  return value_op<std::int64_t>("now", [] {
    auto t = std::chrono::system_clock::now().time_since_epoch();
    return to_bytes(std::chrono::duration_cast<std::chrono::milliseconds>(t).count());
  });
}

op_awaiter<std::uint64_t> context::random() {
  return value_op<std::uint64_t>("random", [] { return to_bytes(detail::random_u64()); });
}

op_awaiter<std::string> context::uuid() {
  return value_op<std::string>("uuid", [] { return to_bytes(detail::random_uuid()); });
}

} // namespace endure
