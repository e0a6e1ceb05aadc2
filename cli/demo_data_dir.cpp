#include "endure/cli/demo_data_dir.hpp"

#include <filesystem>
#include <optional>
#include <system_error>

#include "endure/persistence/detail/data_dir_lock.hpp"

namespace endure::cli {

expected<void> clear_demo_dir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec))
    return {};
  std::optional<detail::data_dir_lock> held;
  if (std::filesystem::exists(std::filesystem::path{dir} / "data.mdb", ec)) {
    auto lock = detail::data_dir_lock::acquire(dir);
    if (!lock)
      return make_error(lock.error().code,
                        lock.error().message + " (the demo rewrites " + dir + " from scratch)");
    held.emplace(std::move(*lock));
  }
  std::filesystem::remove_all(dir, ec);
  if (ec)
    return make_error(errc::io_error, "cannot remove " + dir + " to run the demo again: "
                                        + ec.message() + " (choose another --data)");
  return {};
}

} // namespace endure::cli
