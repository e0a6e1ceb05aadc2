// JSON <-> msgpack for the CLI and the console (json_value.hpp).
#include "endure/net/console/json_value.hpp"

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

namespace endure::console {

namespace {

using json = nlohmann::json;

std::string base64(const char* data, std::size_t n) {
  static constexpr char digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    std::uint32_t v = static_cast<std::uint8_t>(data[i]) << 16;
    if (i + 1 < n)
      v |= static_cast<std::uint8_t>(data[i + 1]) << 8;
    if (i + 2 < n)
      v |= static_cast<std::uint8_t>(data[i + 2]);
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += i + 1 < n ? digits[(v >> 6) & 63] : '=';
    out += i + 2 < n ? digits[v & 63] : '=';
  }
  return out;
}

json to_json(const msgpack::object& o);

/// A map key as an object key: strings as they are, anything else as its
/// JSON text.
std::string key_text(const msgpack::object& k) {
  if (k.type == msgpack::type::STR)
    return std::string{k.via.str.ptr, k.via.str.size};
  return to_json(k).dump(-1, ' ', false, json::error_handler_t::replace);
}

json to_json(const msgpack::object& o) {
  switch (o.type) {
  case msgpack::type::NIL:
    return nullptr;
  case msgpack::type::BOOLEAN:
    return o.via.boolean;
  case msgpack::type::POSITIVE_INTEGER:
    return o.via.u64;
  case msgpack::type::NEGATIVE_INTEGER:
    return o.via.i64;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64:
    return o.via.f64;
  case msgpack::type::STR:
    return std::string{o.via.str.ptr, o.via.str.size};
  case msgpack::type::BIN:
    return base64(o.via.bin.ptr, o.via.bin.size);
  case msgpack::type::EXT:
    return base64(o.via.ext.data(), o.via.ext.size);
  case msgpack::type::ARRAY: {
    json a = json::array();
    for (std::uint32_t i = 0; i < o.via.array.size; ++i)
      a.push_back(to_json(o.via.array.ptr[i]));
    return a;
  }
  case msgpack::type::MAP: {
    json m = json::object();
    for (std::uint32_t i = 0; i < o.via.map.size; ++i)
      m[key_text(o.via.map.ptr[i].key)] = to_json(o.via.map.ptr[i].val);
    return m;
  }
  }
  return nullptr;
}

} // namespace

expected<std::string> json_to_msgpack(std::string_view json_text) {
  try {
    auto bytes = json::to_msgpack(json::parse(json_text));
    return std::string{bytes.begin(), bytes.end()};
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string what = e.what();
    auto start = what.find("] ");
    return make_error(errc::invalid_argument,
                      "not valid JSON: " + (start == what.npos ? what : what.substr(start + 2)));
  }
}

expected<std::string> msgpack_to_json(std::string_view bytes) {
  try {
    // The depth limit also bounds to_json's recursion.
    msgpack::unpack_limit limit{1 << 24, 1 << 24, 1 << 30, 1 << 30, 1 << 30, 256};
    std::size_t offset = 0;
    auto h = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size())
      return make_error(errc::invalid_argument, "more than one msgpack value");
    return to_json(h.get()).dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument, std::string{"not msgpack: "} + e.what());
  }
}

} // namespace endure::console
