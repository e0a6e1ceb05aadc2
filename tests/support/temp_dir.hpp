// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object dies. Every test that touches disk uses one.
#pragma once

#include <string>

namespace endure::test {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept { return path_; }
  /// path() + "/" + name
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace endure::test
