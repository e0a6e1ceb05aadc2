// What a step's function is told about the attempt it runs.
#pragma once

#include <cstdint>
#include <string>

namespace endure {

struct step_info {
  std::string run_id;
  std::string name;
  /// Position of the step in the workflow (0-based, in call order).
  std::uint64_t step = 0;
  /// 1 for the first attempt.
  std::uint32_t attempt = 1;
  /// run_id + "/" + step: the same across retries and crashes, so external
  /// systems can deduplicate (send it as an Idempotency-Key header).
  std::string idempotency_key;
};

} // namespace endure
