// Exit reasons: building, describing and classifying them.
#include "endure/supervisors/exit_reasons.hpp"

#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/scheduled_actor.hpp>

#include <exception>

namespace endure {

namespace {

constexpr caf::atom_value sup_category = caf::atom("endure_sup");

std::string string_at(const caf::message& msg, std::size_t pos) {
  if (msg.size() <= pos || !msg.match_element<std::string>(pos))
    return {};
  return msg.get_as<std::string>(pos);
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

} // namespace

caf::error exception_reason(const std::string& what) {
  return caf::make_error(sup_errc::child_exception, what);
}

void exit_on_exception(caf::scheduled_actor* self) {
  self->set_exception_handler(
    [](caf::scheduled_actor*, std::exception_ptr& ptr) -> caf::error {
      try {
        std::rethrow_exception(ptr);
      } catch (const std::exception& ex) {
        return exception_reason(ex.what());
      } catch (...) {
        return exception_reason("unknown exception (not derived from std::exception)");
      }
    });
}

bool is(const caf::error& reason, sup_errc code) {
  return reason.category() == sup_category
         && reason.code() == static_cast<std::uint8_t>(code);
}

std::string describe(const caf::error& reason) {
  if (!reason)
    return "normal";
  if (reason.category() != sup_category)
    return caf::to_string(reason);
  const auto& ctx = reason.context();
  auto first = string_at(ctx, 0);
  switch (static_cast<sup_errc>(reason.code())) {
    case sup_errc::child_exception:
      return "child_exception: " + first;
    case sup_errc::intensity_exceeded:
      return "intensity_exceeded: child " + quoted(first)
             + " restarted too often; last exit: " + string_at(ctx, 1);
    case sup_errc::start_failed:
      return "start_failed: child " + quoted(first) + ": " + string_at(ctx, 1);
    case sup_errc::duplicate_child:
      return "duplicate_child: " + quoted(first) + " is already running";
    case sup_errc::unknown_child:
      return "unknown_child: " + quoted(first);
    case sup_errc::shutting_down:
      return "shutting_down: not starting " + quoted(first);
  }
  return caf::to_string(reason);
}

exit_kind classify(const caf::error& reason) {
  if (!reason || reason == caf::exit_reason::normal)
    return exit_kind::normal;
  if (reason == caf::exit_reason::user_shutdown)
    return exit_kind::shutdown;
  return exit_kind::abnormal;
}

} // namespace endure
