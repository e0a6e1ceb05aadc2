// Names of run statuses and run id validation.
#include "endure/persistence/run_meta.hpp"

#include <array>

namespace endure {

namespace {
constexpr std::array<std::string_view, 6> status_names{
  "running", "waiting", "completed", "failed", "cancelled", "quarantined"};
} // namespace

std::string_view to_string(run_status s) noexcept {
  auto i = static_cast<std::size_t>(s) - 1;
  return i < status_names.size() ? status_names[i] : "unknown";
}

std::optional<run_status> parse_run_status(std::string_view text) noexcept {
  for (std::size_t i = 0; i < status_names.size(); ++i)
    if (status_names[i] == text)
      return static_cast<run_status>(i + 1);
  return std::nullopt;
}

bool is_terminal(run_status s) noexcept {
  return s == run_status::completed || s == run_status::failed
         || s == run_status::cancelled;
}

expected<void> validate_run_id(std::string_view id) {
  if (id.empty())
    return make_error(errc::invalid_argument, "run id is empty");
  if (id.size() > 200)
    return make_error(errc::invalid_argument,
                      "run id is " + std::to_string(id.size())
                        + " bytes long; the limit is 200");
  if (id.find('\0') != std::string_view::npos)
    return make_error(errc::invalid_argument, "run id contains a NUL byte");
  // A newline or escape in an id would forge lines of `endure list` and
  // the logs that name the run.
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f)
      return make_error(errc::invalid_argument,
                        "run id contains a control character (byte " + std::to_string(c)
                          + "); use printable text");
  return {};
}

expected<void> check_same_workflow(std::string_view run_id, std::string_view existing,
                                   std::string_view asked) {
  if (existing == asked)
    return {};
  // Attaching would hand the caller another workflow's result as if it
  // were the one it asked for.
  return make_error(errc::invalid_state,
                    "run " + std::string{run_id} + " exists and executes workflow '"
                      + std::string{existing} + "', not '" + std::string{asked}
                      + "'; start '" + std::string{asked} + "' under another run id");
}

} // namespace endure
