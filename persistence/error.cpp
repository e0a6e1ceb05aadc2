// Names and rendering of endure::error.
#include "endure/persistence/error.hpp"

namespace endure {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::io_error: return "io_error";
    case errc::data_dir_locked: return "data_dir_locked";
    case errc::map_full: return "map_full";
    case errc::disk_full: return "disk_full";
    case errc::corrupt_record: return "corrupt_record";
    case errc::unknown_record_type: return "unknown_record_type";
    case errc::newer_record_version: return "newer_record_version";
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::invalid_argument: return "invalid_argument";
    case errc::shut_down: return "shut_down";
    case errc::storage_error: return "storage_error";
    case errc::timeout: return "timeout";
    case errc::invalid_state: return "invalid_state";
    case errc::permission_denied: return "permission_denied";
  }
  return "unknown_error";
}

std::string error::to_string() const {
  std::string out{endure::to_string(code)};
  out += ": ";
  out += message;
  return out;
}

} // namespace endure
