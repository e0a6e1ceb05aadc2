#include "endure/persistence/detail/sync_directory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace endure {

expected<void> sync_directory(const std::filesystem::path& dir) {
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0 || (::fsync(d) != 0 && errno != EINVAL)) {
    auto why = std::string{std::strerror(errno)};
    if (d >= 0)
      ::close(d);
    return make_error(errc::io_error, "cannot sync the directory " + dir.string() + ": " + why);
  }
  ::close(d);
  return {};
}

} // namespace endure
