// Principals in a message for people: "ann, bob". One spelling for the
// gateway's answers, its audit entries and the CLI's.
#pragma once

#include <string>
#include <vector>

namespace endure::gateway {

/// `names` joined with ", " ("" for none).
inline std::string joined_names(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

} // namespace endure::gateway
