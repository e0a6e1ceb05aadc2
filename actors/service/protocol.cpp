// The service protocol's registration with CAF and its error conversion
// (service/protocol.hpp).
#include "endure/actors/service/protocol.hpp"

#include <caf/actor_system_config.hpp>

#include "endure/actors/detail/caf_error.hpp"

namespace endure::service {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<run_meta>("endure.run_meta");
  cfg.add_message_type<run_outcome>("endure.run_outcome");
  cfg.add_message_type<step_usage>("endure.step_usage");
  cfg.add_message_type<step_usage_entry>("endure.step_usage_entry");
  cfg.add_message_type<run_usage>("endure.run_usage");
  cfg.add_message_type<run_changed>("endure.run_changed");
  cfg.add_message_type<step_changed>("endure.step_changed");
  cfg.add_message_type<request_changed>("endure.request_changed");
}

error error_of(const caf::error& e, std::string_view what) {
  return endure::detail::from_caf_error(e, what);
}

} // namespace endure::service
