// The OpenAI chat-completions and embeddings wire format, as pure functions
// over JSON text: the client encodes requests and decodes answers, the sim
// and the fake server decode requests and encode answers, so all of them
// agree by construction. Any thread. nlohmann stays in the .cpp files.
// Decoders never throw: whatever a peer sends becomes a classified failure.
#pragma once

#include "endure/net/chat_types.hpp"
#include "endure/net/embedding_types.hpp"
#include "endure/net/result.hpp"

#include <string>
#include <string_view>

namespace endure::net {

// -- chat ------------------------------------------------------------------------

/// Request body for POST {base}/chat/completions. Applies the confidence
/// rewrite described at chat_request::request_confidence. `model` is used
/// when request.model is empty. Fails (fatal) when a schema string is not
/// valid JSON, naming the field.
result<std::string> encode_chat_request(const chat_request& request, std::string_view model);

/// Parses a request body as a server sees it; never throws (a bad body is
/// a fatal failure with status 400). request_confidence is false: a
/// confidence field, if asked for, is part of response_format's schema.
result<chat_request> decode_chat_request(std::string_view body);

/// Response body for a chat completion ("object": "chat.completion").
std::string encode_chat_response(const chat_response& response);

/// Parses a 2xx answer to `request`; never throws. An empty or cut-off
/// body is retryable; a body that is not JSON (`content_type` is named), a
/// field of the wrong type (the message names its path and the type
/// expected) or structured content that is not JSON is fatal; an
/// {"error": ...} body is classified like the error it reports. Messages
/// quote the start of the body; `what` names the call. With
/// request.request_confidence, a turn that calls tools takes its
/// confidence from content of the form {"answer": note, "confidence": x}
/// (content becomes the note when no response_format was given); other
/// content beside tool calls is kept as it is, never a failure.
result<chat_response> decode_chat_response(std::string_view body, std::string_view content_type,
                                           const chat_request& request, std::string_view what);

// -- embeddings ------------------------------------------------------------------

/// Request body for POST {base}/embeddings.
std::string encode_embedding_request(const embedding_request& request, std::string_view model);

/// Parses a request body as a server sees it; never throws.
result<embedding_request> decode_embedding_request(std::string_view body);

/// Response body ("object": "list" of "embedding").
std::string encode_embedding_response(const embedding_response& response);

/// Parses a 2xx answer; vectors are put back in input order (by "index").
/// Never throws; failures are classified as for decode_chat_response (a
/// vector count or index that does not match the inputs is fatal).
result<embedding_response> decode_embedding_response(std::string_view body,
                                                     std::string_view content_type,
                                                     std::size_t inputs, std::string_view what);

// -- errors ----------------------------------------------------------------------

/// An OpenAI-shaped error body: {"error": {"message", "type", "code"}}.
std::string encode_error_body(std::string_view message, std::string_view type,
                              std::string_view code);

} // namespace endure::net
