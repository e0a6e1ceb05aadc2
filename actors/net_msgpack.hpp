// msgpack adaptors of the net layer's plain structs, so ctx.llm and ctx.http
// can journal a chat_response or http_response as a step result and hash a
// request as a step input. The one place these encodings live: net/ knows
// nothing of msgpack, and nothing else in endure defines them.
//
// Each struct travels as a msgpack array of its fields in declaration order
// (enums as their integer value). Decoding accepts shorter arrays (missing
// trailing fields keep their defaults) and longer ones (extra fields are
// ignored), so a field appended later still reads old journals. Fields that
// say nothing about the request's content (chat_request::attempt and
// ::timeout, http_request::timeout, http_response::reused_connection) are
// left out: they must not change a step's input hash, and they are not part
// of a journaled answer.
#pragma once

#include <msgpack.hpp>

#include "endure/net/chat_types.hpp"
#include "endure/net/http_types.hpp"

MSGPACK_ADD_ENUM(endure::net::chat_role);

namespace endure::detail {

// The field list of each struct, shared by the encoder and the decoder.
inline auto msgpack_fields(net::tool_call& v) {
  return msgpack::type::make_define_array(v.id, v.name, v.arguments_json);
}
inline auto msgpack_fields(net::chat_message& v) {
  return msgpack::type::make_define_array(v.role, v.content, v.tool_calls, v.tool_call_id);
}
inline auto msgpack_fields(net::tool_definition& v) {
  return msgpack::type::make_define_array(v.name, v.description, v.parameters_schema_json);
}
inline auto msgpack_fields(net::json_schema_format& v) {
  return msgpack::type::make_define_array(v.name, v.schema_json, v.strict);
}
inline auto msgpack_fields(net::chat_request& v) {
  return msgpack::type::make_define_array(v.messages, v.tools, v.tool_choice, v.response_format,
                                          v.request_confidence, v.model, v.temperature,
                                          v.max_tokens, v.seed);
}
inline auto msgpack_fields(net::token_usage& v) {
  return msgpack::type::make_define_array(v.prompt_tokens, v.completion_tokens, v.total_tokens);
}
inline auto msgpack_fields(net::chat_response& v) {
  return msgpack::type::make_define_array(v.id, v.model, v.content, v.tool_calls,
                                          v.finish_reason, v.confidence, v.usage, v.cost_usd);
}
inline auto msgpack_fields(net::http_header& v) {
  return msgpack::type::make_define_array(v.name, v.value);
}
inline auto msgpack_fields(net::http_request& v) {
  return msgpack::type::make_define_array(v.method, v.url, v.headers, v.body);
}
inline auto msgpack_fields(net::http_response& v) {
  return msgpack::type::make_define_array(v.status, v.headers, v.body);
}

template <class T>
concept has_msgpack_fields = requires(T& v) { msgpack_fields(v); };

} // namespace endure::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <class T>
struct pack<T, std::enable_if_t<endure::detail::has_msgpack_fields<T>>> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const T& v) const {
    // msgpack_fields takes references for the decoder; packing only reads.
    endure::detail::msgpack_fields(const_cast<T&>(v)).msgpack_pack(o);
    return o;
  }
};

template <class T>
struct convert<T, std::enable_if_t<endure::detail::has_msgpack_fields<T>>> {
  const msgpack::object& operator()(const msgpack::object& o, T& v) const {
    endure::detail::msgpack_fields(v).msgpack_unpack(o);
    return o;
  }
};

} // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
