// Names of the reviewer's decisions.
#include "endure/actors/gateway/decision.hpp"

namespace endure::gateway {

std::string_view to_string(decision d) noexcept {
  switch (d) {
    case decision::approve:
      return "approve";
    case decision::edit:
      return "edit";
    case decision::reject:
      return "reject";
    case decision::respond:
      return "respond";
  }
  return "unknown";
}

std::optional<decision> parse_decision(std::string_view name) noexcept {
  for (auto d : all_decisions)
    if (to_string(d) == name)
      return d;
  return std::nullopt;
}

} // namespace endure::gateway
