// endure::error <-> caf::error (see detail/caf_error.hpp).
#include "endure/actors/detail/caf_error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

caf::error to_caf_error(const error& e) {
  return caf::make_error(e.code, e.message);
}

error from_caf_error(const caf::error& e, std::string_view what) {
  if (e.category() == caf::detail::error_factory<errc>::category) {
    auto& ctx = e.context();
    std::string message = ctx.size() > 0 && ctx.match_element<std::string>(0)
                            ? ctx.get_as<std::string>(0)
                            : std::string{what};
    return error{static_cast<errc>(e.code()), std::move(message)};
  }
  if (e == caf::sec::request_timeout)
    return error{errc::timeout, std::string{what} + ": no answer in time"};
  // The manager died before answering: the runtime is shutting down, or
  // its run supervisor crashed and is being restarted by the tree.
  return error{errc::shut_down,
               std::string{what} + ": no answer from the runtime (" + describe(e)
                 + "); it is shutting down, or its run supervisor was restarting: "
                   "try again, and see the log if it persists"};
}

} // namespace endure::detail
