// step_services: the lazily made HTTP client (detail/step_services.hpp).
#include "endure/actors/detail/step_services.hpp"

#include "endure/net/http_client.hpp"

namespace endure::detail {

std::shared_ptr<net::http_client> step_services::http() {
  std::lock_guard lock{mutex_};
  if (!http_)
    http_ = std::make_shared<net::http_client>();
  return http_;
}

} // namespace endure::detail
