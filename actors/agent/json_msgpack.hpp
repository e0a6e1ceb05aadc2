// nlohmann::json as a msgpack value, so a workflow can take and return JSON
// (an agent's tool results, a gated call's outcome) as its input, result or
// a step's value: it travels as its compact JSON text (a msgpack string;
// invalid UTF-8 replaced). Included by tool_call.hpp.
#pragma once

#include <string_view>

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<nlohmann::json> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const nlohmann::json& v) const {
    o.pack(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return o;
  }
};

template <>
struct convert<nlohmann::json> {
  const msgpack::object& operator()(const msgpack::object& o, nlohmann::json& v) const {
    if (o.type != msgpack::type::STR)
      throw msgpack::type_error();
    v = nlohmann::json::parse(std::string_view{o.via.str.ptr, o.via.str.size}, nullptr, false);
    if (v.is_discarded())
      throw msgpack::type_error();
    return o;
  }
};

} // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
