// detail::demangle for workflow_registry's input descriptions
// (detail/type_label.hpp): kept here so <cxxabi.h> stays out of headers.
#include "endure/actors/workflow_registry.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace endure::detail {

std::string demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
    abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free};
  std::string text = status == 0 && name ? name.get() : type.name();
  // Users know their types by the names they wrote.
  static const std::string anonymous = "(anonymous namespace)::";
  for (auto at = text.find(anonymous); at != text.npos; at = text.find(anonymous))
    text.erase(at, anonymous.size());
  return text;
}

} // namespace endure::detail
