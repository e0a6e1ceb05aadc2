// memory_types.hpp's namespace rule, built on the ledger's id rule.
#include "endure/actors/state/memory_types.hpp"

#include "endure/actors/state/ledger_json.hpp"

namespace endure::state {

bool valid_namespace(std::string_view ns) noexcept {
  if (ns.empty() || ns.size() > 100)
    return false;
  // Each '/'-separated segment is an id: no empty segment, no NUL (the
  // row key's separator), nothing a path or a shell would read otherwise.
  for (std::size_t from = 0;;) {
    auto slash = ns.find('/', from);
    if (!valid_id(ns.substr(from, slash == std::string_view::npos ? slash : slash - from)))
      return false;
    if (slash == std::string_view::npos)
      return true;
    from = slash + 1;
  }
}

} // namespace endure::state
