// A bounded poll, for the few things a test can only observe by looking
// again (a journal record landing, a counter reaching a value): checks a
// condition until it holds or a deadline passes. Prefer waiting on the
// event itself (runtime::wait, a latch, a child's output line) when there
// is one. Test thread only.
#pragma once

#include <chrono>
#include <thread>

namespace endure::test {

/// Checks `holds()` every `every` until it returns true (then true) or
/// `limit` has passed (then false, after one last check).
template <class Pred>
bool eventually(Pred&& holds, std::chrono::milliseconds limit = std::chrono::seconds{10},
                std::chrono::microseconds every = std::chrono::milliseconds{2}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (holds())
      return true;
    std::this_thread::sleep_for(every);
  }
  return holds();
}

} // namespace endure::test
