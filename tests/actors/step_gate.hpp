// Step bodies that block until the test lets them go, so a test knows which
// bodies are in flight at a crash or a shutdown, and chooses the order in
// which concurrent steps finish. Bodies call pass() on activity threads; the
// test thread releases keys and waits for bodies to arrive (condition
// variable: no polling). A body is held at most `hold_limit`, then pass()
// throws fatal_error, so a failing test ends instead of hanging the
// runtime's shutdown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "endure/persistence/failure.hpp"

namespace endure::test {

class step_gate {
public:
  /// Opens every key when it goes out of scope: declare one after the
  /// runtime fixture, so a test that fails early does not leave bodies
  /// blocked while the fixture's destructor waits for them.
  class opener {
  public:
    explicit opener(step_gate& g) : gate_(&g) {}
    ~opener() { gate_->release_all(); }
    opener(const opener&) = delete;
    opener& operator=(const opener&) = delete;

  private:
    step_gate* gate_;
  };

  /// Forgets every key and count. Only while no body is in pass().
  void reset(std::chrono::milliseconds hold_limit = std::chrono::seconds{20}) {
    std::lock_guard lock{mu_};
    open_.clear();
    all_open_ = false;
    entered_.clear();
    waiting_.clear();
    hold_limit_ = hold_limit;
  }

  /// In a step body: counts an entry under `key`, then blocks until `key`
  /// (or every key) is released.
  void pass(const std::string& key) {
    std::unique_lock lock{mu_};
    ++entered_[key];
    waiting_.insert(key);
    changed_.notify_all();
    bool open = changed_.wait_for(lock, hold_limit_,
                                  [&] { return all_open_ || open_.count(key) > 0; });
    waiting_.erase(waiting_.find(key));
    changed_.notify_all();
    if (!open)
      throw fatal_error("test gate '" + key + "' was never released");
  }

  /// Lets every body waiting on `key`, now or later, through.
  void release(const std::string& key) {
    std::lock_guard lock{mu_};
    open_.insert(key);
    changed_.notify_all();
  }
  void release_all() {
    std::lock_guard lock{mu_};
    all_open_ = true;
    changed_.notify_all();
  }

  /// Waits (at most `limit`) until `n` bodies are blocked in pass().
  bool await_waiting(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    std::unique_lock lock{mu_};
    return changed_.wait_for(lock, limit, [&] { return waiting_.size() >= n; });
  }
  /// Waits (at most `limit`) until a body is blocked on `key`.
  bool await_waiting(const std::string& key,
                     std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    std::unique_lock lock{mu_};
    return changed_.wait_for(lock, limit, [&] { return waiting_.count(key) > 0; });
  }

  /// Bodies blocked in pass() now.
  std::size_t waiting() const {
    std::lock_guard lock{mu_};
    return waiting_.size();
  }
  /// How many times bodies entered pass() with `key`.
  int entered(const std::string& key) const {
    std::lock_guard lock{mu_};
    auto it = entered_.find(key);
    return it == entered_.end() ? 0 : it->second;
  }

private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::set<std::string> open_;
  bool all_open_ = false;
  std::map<std::string, int> entered_;
  std::multiset<std::string> waiting_;
  std::chrono::milliseconds hold_limit_{std::chrono::seconds{20}};
};

} // namespace endure::test
