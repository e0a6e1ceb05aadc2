// The one place that chooses between the sim and a real endpoint.
#include "endure/net/llm_backend.hpp"

#include "endure/net/openai_client.hpp"
#include "endure/net/sim_model.hpp"

namespace endure::net {

std::unique_ptr<llm_backend> make_llm_backend(const llm_config& config) {
  if (config.base_url.empty())
    return std::make_unique<sim_model>(config);
  return std::make_unique<openai_client>(config);
}

} // namespace endure::net
