// Lowers a resource limit of this process (the soft limit of setrlimit)
// for a scope and puts the old one back at its end: tests that make the
// kernel refuse as a full system would (no descriptor left, a file past
// what the disk holds).
#pragma once

#include <sys/resource.h>

namespace endure::test {

class scoped_rlimit {
public:
  using resource_type = decltype(RLIMIT_NOFILE);

  scoped_rlimit(resource_type resource, rlim_t soft) : resource_(resource) {
    if (::getrlimit(resource_, &saved_) != 0)
      return;
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    lowered_ = ::setrlimit(resource_, &lowered) == 0;
  }
  ~scoped_rlimit() { restore(); }
  scoped_rlimit(const scoped_rlimit&) = delete;
  scoped_rlimit& operator=(const scoped_rlimit&) = delete;

  /// False when the limit could not be lowered (nothing to restore).
  bool ok() const { return lowered_; }
  /// Puts the old limit back before the scope ends.
  void restore() {
    if (lowered_)
      ::setrlimit(resource_, &saved_);
    lowered_ = false;
  }

private:
  resource_type resource_;
  rlimit saved_{};
  bool lowered_ = false;
};

} // namespace endure::test
