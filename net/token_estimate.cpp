// The prompt token estimate (token_estimate.hpp).
#include "endure/net/token_estimate.hpp"

#include "endure/net/chat_types.hpp"

namespace endure::net {

std::uint64_t estimate_prompt_tokens(const chat_request& request) noexcept {
  std::uint64_t n = 0;
  for (const auto& m : request.messages) {
    n += 4 + estimate_tokens(m.content);
    for (const auto& c : m.tool_calls)
      n += estimate_tokens(c.name) + estimate_tokens(c.arguments_json);
  }
  for (const auto& t : request.tools)
    n += estimate_tokens(t.name) + estimate_tokens(t.description)
         + estimate_tokens(t.parameters_schema_json);
  return n;
}

} // namespace endure::net
