#include "endure/net/cluster/detail/service_facade.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <string>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/service/protocol.hpp"

namespace endure::cluster::router_detail {

namespace {

/// The actor holding `name` now, or null.
caf::actor holder(caf::event_based_actor* self, caf::atom_value name) {
  return caf::actor_cast<caf::actor>(self->home_system().registry().get(name));
}

/// Delegates the current message's request to the holder of `name`, or
/// answers shut_down while none holds it.
template <class... Ts>
void pass_on(caf::event_based_actor* self, caf::atom_value name, Ts&&... xs) {
  auto to = holder(self, name);
  if (!to) {
    self->make_response_promise().deliver(endure::detail::to_caf_error(
      errc::shut_down, "this node's " + caf::to_string(name)
                         + " is not running now (it restarts, or the runtime closes): ask again"));
    return;
  }
  self->delegate(to, std::forward<Ts>(xs)...);
}

caf::behavior gateway_facade(caf::event_based_actor* self) {
  self->set_default_handler(caf::drop);  // a request gets unexpected_message
  auto name = service::gateway_name;
  return {
    [=](atoms::decide a, const std::string& id, const std::string& principal,
        const std::string& what, const std::string& payload, const std::string& channel) {
      pass_on(self, name, a, id, principal, what, payload, channel);
    },
    [=](atoms::subscribe a, const caf::actor& who) {
      if (auto to = holder(self, name))
        self->send(to, a, who);
    },
  };
}

caf::behavior escalation_facade(caf::event_based_actor* self) {
  self->set_default_handler(caf::drop);
  auto name = service::escalation_name;
  return {
    [=](atoms::esc_assess a, const std::string& key, const std::string& proposal) {
      pass_on(self, name, a, key, proposal);
    },
    [=](atoms::esc_outcome a, const std::string& key, const std::string& outcome) {
      pass_on(self, name, a, key, outcome);
    },
    [=](atoms::esc_stats a) { pass_on(self, name, a); },
  };
}

} // namespace

bool has_facade(caf::atom_value name) {
  return name == service::gateway_name || name == service::escalation_name;
}

caf::actor spawn_service_facade(caf::event_based_actor* parent, caf::atom_value name) {
  if (name == service::gateway_name)
    return parent->spawn<caf::linked>(gateway_facade);
  return parent->spawn<caf::linked>(escalation_facade);
}

} // namespace endure::cluster::router_detail
