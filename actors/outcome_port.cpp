// outcome_port: reports under a mutex, so close() cannot interleave with a
// send in progress (see detail/outcome_port.hpp).
#include "endure/actors/detail/outcome_port.hpp"

#include <caf/all.hpp>

#include "endure/actors/atoms.hpp"

namespace endure::detail {

void outcome_port::report(std::uint64_t step, std::uint32_t attempt,
                          std::optional<std::string> result, const failure& f,
                          std::int64_t duration_us) {
  std::lock_guard guard{mutex_};
  if (!run_)
    return;
  if (result) {
    caf::anon_send(run_, atoms::step_done::value, step, attempt, std::move(*result),
                   duration_us);
    return;
  }
  caf::anon_send(run_, atoms::step_fail::value, step, attempt, static_cast<std::uint8_t>(f.cls),
                 f.message,
                 static_cast<std::int64_t>(f.retry_after ? f.retry_after->count() : -1),
                 static_cast<std::int32_t>(f.http_status), duration_us);
}

void outcome_port::close() {
  caf::actor released;
  {
    std::lock_guard guard{mutex_};
    released = std::move(run_);
    run_ = nullptr;
  }
}

} // namespace endure::detail
