// See answer.hpp.
#include "endure/net/detail/answer.hpp"

#include "endure/net/http_failure.hpp"
#include "endure/net/openai_codec.hpp"

namespace endure::net::detail {

namespace {

std::string_view content_type_of(const http_response& response) {
  return find_header(response.headers, "content-type").value_or(std::string_view{});
}

/// `decode(response)` for a 2xx answer, the classified failure otherwise;
/// whatever throws on the way becomes a failure too.
template <class T, class Decode>
result<T> answer(const result<http_response>& response, std::string_view what,
                 std::string_view secret, Decode decode) {
  try {
    if (!response)
      return scrub(response.error(), secret);
    if (response->status < 200 || response->status > 299)
      return scrub(failure_from_response(*response, what), secret);
    auto out = decode(*response);
    if (!out)
      return scrub(std::move(out).error(), secret);
    return out;
  } catch (...) {
    return scrub(failure_from_exception(std::current_exception(), what), secret);
  }
}

} // namespace

endure::failure scrub(endure::failure f, std::string_view secret) {
  if (secret.size() < 4) // too short to search for without mangling text
    return f;
  for (auto pos = f.message.find(secret); pos != std::string::npos;
       pos = f.message.find(secret, pos))
    f.message.replace(pos, secret.size(), "[redacted]");
  return f;
}

result<chat_response> chat_answer(const result<http_response>& response,
                                  const chat_request& request, const llm_config& config,
                                  std::string_view what, std::string_view secret) {
  return answer<chat_response>(response, what, secret, [&](const http_response& r) {
    auto out = decode_chat_response(r.body, content_type_of(r), request, what);
    if (out)
      out->cost_usd = price_of(out->usage.prompt_tokens, out->usage.completion_tokens, config);
    return out;
  });
}

result<embedding_response> embedding_answer(const result<http_response>& response,
                                            const embedding_request& request,
                                            const llm_config& config, std::string_view what,
                                            std::string_view secret) {
  return answer<embedding_response>(response, what, secret, [&](const http_response& r) {
    auto out = decode_embedding_response(r.body, content_type_of(r), request.inputs.size(), what);
    if (out)
      out->cost_usd = price_of(out->usage.prompt_tokens, 0, config);
    return out;
  });
}

} // namespace endure::net::detail
