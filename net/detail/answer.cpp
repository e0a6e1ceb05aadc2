// See answer.hpp.
#include "net/detail/answer.hpp"

#include "net/http_failure.hpp"
#include "net/openai_codec.hpp"

namespace endure::net::detail {

endure::failure scrub(endure::failure f, std::string_view secret) {
  if (secret.size() < 4) // too short to search for without mangling text
    return f;
  for (auto pos = f.message.find(secret); pos != std::string::npos;
       pos = f.message.find(secret, pos))
    f.message.replace(pos, secret.size(), "[redacted]");
  return f;
}

result<chat_response> chat_answer(const http_response& response, const chat_request& request,
                                  const llm_config& config, std::string_view what,
                                  std::string_view secret) {
  if (response.status < 200 || response.status > 299)
    return scrub(failure_from_response(response, what), secret);
  auto out = decode_chat_response(response.body, request, what);
  if (!out)
    return scrub(std::move(out).error(), secret);
  out->cost_usd = price_of(out->usage.prompt_tokens, out->usage.completion_tokens, config);
  return out;
}

result<embedding_response> embedding_answer(const http_response& response,
                                            const embedding_request& request,
                                            const llm_config& config, std::string_view what,
                                            std::string_view secret) {
  if (response.status < 200 || response.status > 299)
    return scrub(failure_from_response(response, what), secret);
  auto out = decode_embedding_response(response.body, request.inputs.size(), what);
  if (!out)
    return scrub(std::move(out).error(), secret);
  out->cost_usd = price_of(out->usage.prompt_tokens, 0, config);
  return out;
}

} // namespace endure::net::detail
