// The control channel's frames as msgpack arrays (control_protocol.hpp):
//   greeting [version, state, pid, message]
//   request  [version, op, run_id, workflow, name, payload, reason, principal]
//   reply    [version, code (0 = success), status, message, result, policy_hash]
#include "endure/cli/control_protocol.hpp"

#include <msgpack.hpp>

#include "endure/persistence/detail/string_buffer.hpp"

namespace endure::cli {

std::string_view to_string(control_op op) noexcept {
  switch (op) {
  case control_op::start:
    return "start";
  case control_op::signal:
    return "signal";
  case control_op::cancel:
    return "cancel";
  case control_op::release:
    return "release";
  case control_op::wait:
    return "wait";
  case control_op::decide:
    return "decide";
  }
  return "?";
}

namespace {

/// Packs the version and then `fields` as one array.
template <class... Ts>
std::string pack_frame(const Ts&... fields) {
  detail::string_buffer buf;
  msgpack::packer<detail::string_buffer> pk{buf};
  pk.pack_array(1 + sizeof...(Ts));
  pk.pack(control_protocol_version);
  (pk.pack(fields), ...);
  return std::move(buf.bytes);
}

/// A decoded frame: its array's elements after the version.
struct frame_reader {
  msgpack::object_handle handle;
  const msgpack::object* fields = nullptr;
  std::uint32_t size = 0;

  template <class T>
  T get(std::uint32_t i) const {
    return fields[i].as<T>();
  }
};

expected<frame_reader> open_frame(std::string_view body, std::uint32_t fields, const char* what) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument, std::string{"a control "} + what
                                                + " that is not one: " + why);
  };
  try {
    msgpack::unpack_limit limit{16, 0, control_max_frame, control_max_frame, 0, 4};
    std::size_t offset = 0;
    frame_reader r;
    r.handle = msgpack::unpack(body.data(), body.size(), offset, nullptr, nullptr, limit);
    auto& o = r.handle.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size == 0 || offset != body.size())
      return bad("not a msgpack array");
    auto version = o.via.array.ptr[0].as<std::uint32_t>();
    if (version != control_protocol_version)
      return bad("protocol version " + std::to_string(version) + ", this endure speaks "
                 + std::to_string(control_protocol_version)
                 + " (use the same endure binary for serve and its clients)");
    if (o.via.array.size != fields + 1)
      return bad(std::to_string(o.via.array.size - 1) + " fields, expected "
                 + std::to_string(fields));
    r.fields = o.via.array.ptr + 1;
    r.size = fields;
    return r;
  } catch (const std::exception& e) {
    return bad(e.what());
  }
}

/// Runs `build` on the opened frame; a field of the wrong type is an error.
template <class T, class F>
expected<T> decode_frame(std::string_view body, std::uint32_t fields, const char* what,
                         F build) {
  auto r = open_frame(body, fields, what);
  if (!r)
    return std::move(r).error();
  try {
    return build(*r);
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument,
                      std::string{"a control "} + what + " with a field of the wrong type");
  }
}

template <class E>
E enum_in(std::uint8_t v, std::uint8_t first, std::uint8_t last) {
  if (v < first || v > last)
    throw std::out_of_range("enum value out of range");
  return static_cast<E>(v);
}

} // namespace

std::string encode(const control_greeting& g) {
  return pack_frame(static_cast<std::uint8_t>(g.state), static_cast<std::int64_t>(g.pid),
                    g.message);
}

std::string encode(const control_request& r) {
  return pack_frame(static_cast<std::uint8_t>(r.op), r.run_id, r.workflow, r.name,
                    msgpack::type::raw_ref(r.payload.data(),
                                           static_cast<std::uint32_t>(r.payload.size())),
                    r.reason, r.principal);
}

std::string encode(const control_reply& r) {
  return pack_frame(static_cast<std::uint8_t>(r.code ? static_cast<std::uint8_t>(*r.code) : 0),
                    static_cast<std::uint8_t>(r.status), r.message,
                    msgpack::type::raw_ref(r.result.data(),
                                           static_cast<std::uint32_t>(r.result.size())),
                    r.policy_hash);
}

expected<control_greeting> decode_greeting(std::string_view body) {
  return decode_frame<control_greeting>(body, 3, "greeting", [](const frame_reader& f) {
    return control_greeting{enum_in<channel_state>(f.get<std::uint8_t>(0), 1, 4),
                            static_cast<pid_t>(f.get<std::int64_t>(1)),
                            f.get<std::string>(2)};
  });
}

expected<control_request> decode_request(std::string_view body) {
  return decode_frame<control_request>(body, 7, "request", [](const frame_reader& f) {
    return control_request{enum_in<control_op>(f.get<std::uint8_t>(0), 1, 6),
                           f.get<std::string>(1), f.get<std::string>(2), f.get<std::string>(3),
                           f.get<std::string>(4), f.get<std::string>(5), f.get<std::string>(6)};
  });
}

expected<control_reply> decode_reply(std::string_view body) {
  return decode_frame<control_reply>(body, 5, "reply", [](const frame_reader& f) {
    control_reply r;
    if (auto code = f.get<std::uint8_t>(0); code != 0)
      r.code = enum_in<errc>(code, 1, static_cast<std::uint8_t>(errc::permission_denied));
    r.status = enum_in<run_status>(f.get<std::uint8_t>(1), 1, 6);
    r.message = f.get<std::string>(2);
    r.result = f.get<std::string>(3);
    r.policy_hash = f.get<std::string>(4);
    return r;
  });
}

} // namespace endure::cli
