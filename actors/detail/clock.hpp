// Wall-clock milliseconds since the Unix epoch: the one clock the workflow
// core journals (timer due times, event timestamps). Internal.
#pragma once

#include <chrono>
#include <cstdint>

namespace endure::detail {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace endure::detail
