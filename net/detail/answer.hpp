// From what the HTTP client delivered to a chat/embeddings result: pass a
// transport failure on, classify a non-2xx answer with http_failure, decode
// a 2xx one with openai_codec, price the usage, and scrub the API key from
// any message. Shared by openai_client and sim_model so the sim fails
// exactly as a real endpoint would.
//
// Never throws: anything thrown on the way (an allocation, a bug) becomes
// a classified failure (failure_from_exception), so the caller can always
// hand the result to its callback. Pure; any thread.
#pragma once

#include "endure/net/chat_types.hpp"
#include "endure/net/embedding_types.hpp"
#include "endure/net/http_types.hpp"
#include "endure/net/llm_config.hpp"
#include "endure/net/result.hpp"

#include <string>
#include <string_view>

namespace endure::net::detail {

result<chat_response> chat_answer(const result<http_response>& response,
                                  const chat_request& request, const llm_config& config,
                                  std::string_view what, std::string_view secret);

result<embedding_response> embedding_answer(const result<http_response>& response,
                                            const embedding_request& request,
                                            const llm_config& config, std::string_view what,
                                            std::string_view secret);

/// `f` with every occurrence of `secret` in its message replaced.
endure::failure scrub(endure::failure f, std::string_view secret);

} // namespace endure::net::detail
