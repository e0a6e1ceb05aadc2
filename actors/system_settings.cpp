// The recommended actor system settings (see system_settings.hpp).
#include "actors/system_settings.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

namespace endure {

void apply_recommended_settings(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("sharing"));
}

} // namespace endure
