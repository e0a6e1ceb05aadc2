// The OpenAI chat-completions and embeddings wire format, as pure functions
// over JSON text: the client encodes requests and decodes answers, the sim
// and the fake server decode requests and encode answers, so all of them
// agree by construction. Any thread. nlohmann stays in the .cpp files.
#pragma once

#include "net/chat_types.hpp"
#include "net/embedding_types.hpp"
#include "net/result.hpp"

#include <string>
#include <string_view>

namespace endure::net {

// -- chat ------------------------------------------------------------------------

/// Request body for POST {base}/chat/completions. Applies the confidence
/// rewrite described at chat_request::request_confidence. `model` is used
/// when request.model is empty. Fails (fatal) when a schema string is not
/// valid JSON, naming the field.
result<std::string> encode_chat_request(const chat_request& request, std::string_view model);

/// Parses a request body as a server sees it. request_confidence is false:
/// a confidence field, if asked for, is part of response_format's schema.
result<chat_request> decode_chat_request(std::string_view body);

/// Response body for a chat completion ("object": "chat.completion").
std::string encode_chat_response(const chat_response& response);

/// Parses a 2xx answer to `request`. A body that is not a chat completion,
/// or structured content that is not JSON, is a fatal failure whose message
/// quotes the start of the body; `what` names the call for messages.
result<chat_response> decode_chat_response(std::string_view body, const chat_request& request,
                                           std::string_view what);

// -- embeddings ------------------------------------------------------------------

/// Request body for POST {base}/embeddings.
std::string encode_embedding_request(const embedding_request& request, std::string_view model);

/// Parses a request body as a server sees it.
result<embedding_request> decode_embedding_request(std::string_view body);

/// Response body ("object": "list" of "embedding").
std::string encode_embedding_response(const embedding_response& response);

/// Parses a 2xx answer; vectors are put back in input order (by "index").
result<embedding_response> decode_embedding_response(std::string_view body, std::size_t inputs,
                                                     std::string_view what);

// -- errors ----------------------------------------------------------------------

/// An OpenAI-shaped error body: {"error": {"message", "type", "code"}}.
std::string encode_error_body(std::string_view message, std::string_view type,
                              std::string_view code);

} // namespace endure::net
