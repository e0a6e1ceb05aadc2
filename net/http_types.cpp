// Header lookup for the plain HTTP structs.
#include "endure/net/http_types.hpp"

#include <cctype>

namespace endure::net {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

std::optional<std::string_view> find_header(const http_headers& headers,
                                            std::string_view name) noexcept {
  for (const auto& h : headers)
    if (iequals(h.name, name))
      return std::string_view{h.value};
  return std::nullopt;
}

} // namespace endure::net
