// Spec validation: each check names the field it rejects.
#include "endure/supervisors/validate.hpp"

#include <map>

namespace endure {

namespace {

error bad(const std::string& field, const std::string& what) {
  return make_error(errc::invalid_argument, field + ": " + what);
}

} // namespace

expected<void> validate(const backoff_policy& policy, const std::string& path) {
  if (policy.initial.count() < 0)
    return bad(path + ".initial", "must not be negative");
  if (policy.max < policy.initial)
    return bad(path + ".max", "must be >= initial");
  if (!(policy.multiplier >= 1.0))
    return bad(path + ".multiplier", "must be >= 1");
  if (!(policy.jitter >= 0.0 && policy.jitter <= 1.0))
    return bad(path + ".jitter", "must be in [0, 1]");
  return {};
}

expected<void> validate(const shutdown_policy& policy, const std::string& path) {
  if (policy.how == shutdown_policy::mode::timeout && policy.timeout.count() <= 0)
    return bad(path + ".timeout",
               "must be positive (use brutal_kill() to kill at once)");
  return {};
}

expected<void> validate(const supervisor_flags& flags) {
  if (flags.intensity < 0)
    return bad("flags.intensity", "must not be negative");
  if (flags.period.count() <= 0)
    return bad("flags.period", "must be positive");
  return validate(flags.backoff, "flags.backoff");
}

expected<void> validate(const child_spec& spec, const std::string& path) {
  if (spec.id.empty())
    return bad(path + ".id", "must not be empty");
  if (!spec.start)
    return bad(path + ".start", "missing start function for \"" + spec.id + "\"");
  return validate(spec.shutdown, path + ".shutdown");
}

expected<void> validate(const supervisor_flags& flags,
                        const std::vector<child_spec>& children) {
  if (auto ok = validate(flags); !ok)
    return ok;
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < children.size(); ++i) {
    auto path = "children[" + std::to_string(i) + "]";
    if (auto ok = validate(children[i], path); !ok)
      return ok;
    auto [pos, inserted] = seen.emplace(children[i].id, i);
    if (!inserted)
      return bad(path + ".id", "duplicate id \"" + children[i].id
                                 + "\" (also children["
                                 + std::to_string(pos->second) + "])");
  }
  return {};
}

} // namespace endure
