// msgpack payloads of run events. Each event is a msgpack array of its
// fields in declaration order; decoding accepts longer arrays (newer
// writers appending fields are refused by schema version before this).
#include "endure/actors/events.hpp"

#include <msgpack.hpp>

#include "endure/actors/escalation/store.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"

#include "endure/persistence/detail/string_buffer.hpp"

namespace endure {

namespace {

constexpr std::uint16_t first_tag = 16;

// Field lists, one per event, shared by encoder and decoder.
auto fields(run_started_event& e) { return std::tie(e.workflow, e.input, e.at_ms); }
auto fields(step_started_event& e) {
  return std::tie(e.step, e.name, e.input_hash, e.attempt, e.at_ms);
}
auto fields(step_completed_event& e) {
  return std::tie(e.step, e.name, e.input_hash, e.attempt, e.result, e.at_ms,
                  e.duration_us, e.signal_seq, e.usage.prompt_tokens,
                  e.usage.completion_tokens, e.usage.cost_usd, e.usage.model);
}
auto fields(step_failed_event& e) {
  return std::tie(e.step, e.name, e.attempt, e.cls, e.message, e.retry_at_ms,
                  e.final, e.at_ms, e.duration_us, e.http_status);
}
auto fields(timer_scheduled_event& e) {
  return std::tie(e.step, e.name, e.input_hash, e.due_ms);
}
auto fields(signal_received_event& e) {
  return std::tie(e.name, e.payload, e.at_ms, e.request_id);
}
auto fields(cancel_requested_event& e) { return std::tie(e.reason, e.at_ms); }
auto fields(run_finished_event& e) {
  return std::tie(e.status, e.result, e.error, e.at_ms);
}
auto fields(run_released_event& e) { return std::tie(e.reason, e.at_ms); }
auto fields(step_interrupted_event& e) {
  return std::tie(e.step, e.name, e.attempt, e.at_ms);
}

// Enums travel as their integer value.
template <class T>
void pack_field(msgpack::packer<detail::string_buffer>& pk, const T& v) {
  if constexpr (std::is_enum_v<T>)
    pk.pack(static_cast<std::underlying_type_t<T>>(v));
  else
    pk.pack(v);
}

template <class T>
void unpack_field(const msgpack::object& o, T& v) {
  if constexpr (std::is_enum_v<T>)
    v = static_cast<T>(o.as<std::underlying_type_t<T>>());
  else
    v = o.as<T>();
}

// Schema versions (FORMAT.md's evolution rule): step_completed gained its
// usage fields in schema 2. Fields a type had in schema 1 are required;
// later ones are optional on read and keep their defaults when absent.
template <class T>
constexpr std::uint16_t schema_of = 1;
template <>
constexpr std::uint16_t schema_of<step_completed_event> = 2;
template <>
constexpr std::uint16_t schema_of<signal_received_event> = 2;

template <class T>
constexpr std::size_t schema1_fields =
  std::tuple_size_v<decltype(fields(std::declval<T&>()))>;
template <>
constexpr std::size_t schema1_fields<step_completed_event> = 8;
template <>
constexpr std::size_t schema1_fields<signal_received_event> = 3;

const msgpack::unpack_limit limits{16, 0, 1u << 30, 1u << 30, 0, 2};

constexpr std::string_view names[] = {
  "run_started", "step_started", "step_completed", "step_failed",
  "timer_scheduled", "signal_received", "cancel_requested", "run_finished", "run_released",
  "step_interrupted"};

} // namespace

std::string_view event_name(const run_event& e) { return names[e.index()]; }

void register_event_types(record_types& types) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (types.add(static_cast<std::uint16_t>(first_tag + I),
               schema_of<std::variant_alternative_t<I, run_event>>, std::string{names[I]}),
     ...);
  }(std::make_index_sequence<std::variant_size_v<run_event>>{});
  // Rows of the requests table (actors/gateway/human_request.hpp).
  types.add(gateway::human_request_tag, 1, "human_request");
  types.add(gateway::request_index_tag, 1, "request_index_entry");
  // Rows of the escalation actor's tables (actors/escalation/store.hpp).
  escalation::register_record_types(types);
  // Rows of durable statefulness (actors/state/record_tags.hpp).
  state::register_record_types(types);
}

record encode_event(const run_event& e) {
  detail::string_buffer buf;
  msgpack::packer<detail::string_buffer> pk(buf);
  std::uint16_t schema = 1;
  std::visit([&](const auto& ev) {
    using T = std::decay_t<decltype(ev)>;
    schema = schema_of<T>;
    // fields() ties non-const references (decoding writes through them);
    // packing only reads, so the event is not copied for it.
    auto tuple = fields(const_cast<T&>(ev));
    pk.pack_array(static_cast<std::uint32_t>(std::tuple_size_v<decltype(tuple)>));
    std::apply([&](auto&... f) { (pack_field(pk, f), ...); }, tuple);
  }, e);
  return {static_cast<std::uint16_t>(first_tag + e.index()), schema,
          std::move(buf.bytes)};
}

namespace {

template <std::size_t I>
expected<run_event> decode_as(const msgpack::object& arr) {
  using event_t = std::variant_alternative_t<I, run_event>;
  event_t ev;
  auto tuple = fields(ev);
  constexpr auto n = std::tuple_size_v<decltype(tuple)>;
  constexpr auto required = schema1_fields<event_t>;
  if (arr.type != msgpack::type::ARRAY || arr.via.array.size < required)
    throw std::runtime_error("expected an array of at least " + std::to_string(required)
                             + " fields");
  auto size = arr.via.array.size;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    ((K < size ? unpack_field(arr.via.array.ptr[K], std::get<K>(tuple)) : void()), ...);
  }(std::make_index_sequence<n>{});
  return run_event{std::move(ev)};
}

template <std::size_t... I>
expected<run_event> decode_index(std::size_t index, const msgpack::object& arr,
                                 std::index_sequence<I...>) {
  expected<run_event> out = make_error(errc::unknown_record_type, "");
  ((index == I ? (out = decode_as<I>(arr), true) : false) || ...);
  return out;
}

} // namespace

expected<run_event> decode_event(const record& r, std::string_view run_id,
                                 std::uint64_t seq) {
  auto where = "run " + std::string{run_id} + " seq " + std::to_string(seq);
  if (r.tag < first_tag || r.tag >= first_tag + std::variant_size_v<run_event>)
    return make_error(errc::unknown_record_type,
                      where + ": record type " + std::to_string(r.tag)
                        + " is not a workflow event");
  try {
    auto h = msgpack::unpack(r.payload.data(), r.payload.size(), nullptr, nullptr, limits);
    return decode_index(r.tag - first_tag, h.get(),
                        std::make_index_sequence<std::variant_size_v<run_event>>{});
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record, where + ": " + std::string{names[r.tag - first_tag]}
                                              + " payload is malformed (" + e.what() + ")");
  }
}

} // namespace endure
