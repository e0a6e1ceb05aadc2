// Exclusive lock on a data directory: flock() on DIR/LOCK, which holds the
// holder's pid. Released when the object dies or the process exits (even by
// SIGKILL: the kernel drops flock locks with the process).
#pragma once

#include <string>

#include "endure/persistence/error.hpp"

namespace endure::detail {

class data_dir_lock {
public:
  /// Takes the lock or returns errc::data_dir_locked naming the holder's pid.
  static expected<data_dir_lock> acquire(const std::string& dir);

  data_dir_lock(data_dir_lock&& o) noexcept;
  data_dir_lock& operator=(data_dir_lock&& o) noexcept;
  data_dir_lock(const data_dir_lock&) = delete;
  ~data_dir_lock();

private:
  explicit data_dir_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

} // namespace endure::detail
