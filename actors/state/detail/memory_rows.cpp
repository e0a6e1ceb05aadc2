// The memory store's row codec (memory_rows.hpp): msgpack maps through
// nlohmann-json, the embedding as raw little-endian floats.
#include "endure/actors/state/detail/memory_rows.hpp"

#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "endure/actors/state/record_tags.hpp"

namespace endure::state::detail {

namespace {

using json = nlohmann::json;

constexpr std::string_view entry_prefix = "e/";

/// The row named for people: "memory row NS/KEY" (non-printable bytes of
/// the key shown as '?').
std::string row_name(std::string_view row_key) {
  std::string out = "memory row ";
  for (char c : row_key.substr(std::min(row_key.size(), entry_prefix.size())))
    out += c == '\0' ? ' ' : (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  return out;
}

record packed(std::uint16_t tag, const json& j) {
  auto bytes = json::to_msgpack(j);
  return record{tag, 1, std::string{bytes.begin(), bytes.end()}};
}

} // namespace

std::string memory_row_key(std::string_view ns, std::string_view key) {
  auto out = memory_ns_prefix(ns);
  out += key;
  return out;
}

std::string memory_ns_prefix(std::string_view ns) {
  std::string out{entry_prefix};
  out += ns;
  out += '\0';
  return out;
}

expected<std::pair<std::string, std::string>> split_memory_row_key(std::string_view row_key) {
  auto nul = row_key.find('\0');
  if (!row_key.starts_with(entry_prefix) || nul == std::string_view::npos ||
      nul + 1 == row_key.size())
    return make_error(errc::corrupt_record, row_name(row_key) + ": not an entry key");
  auto ns = row_key.substr(entry_prefix.size(), nul - entry_prefix.size());
  return std::pair{std::string{ns}, std::string{row_key.substr(nul + 1)}};
}

record memory_entry_record(const memory_entry& e, std::uint64_t id) {
  std::vector<std::uint8_t> bytes(e.embedding.size() * sizeof(float));
  std::memcpy(bytes.data(), e.embedding.data(), bytes.size());
  json j = {{"id", id},
            {"t", json::binary(std::vector<std::uint8_t>(e.text.begin(), e.text.end()))},
            {"v", json::binary(std::move(bytes))},
            {"r", e.from.run_id},
            {"s", e.from.session},
            {"p", e.from.step},
            {"c", e.created_ms},
            {"x", e.expires_ms}};
  return packed(memory_entry_tag, j);
}

expected<std::pair<memory_entry, std::uint64_t>> parse_memory_entry(std::string_view row_key,
                                                                    const record& r) {
  auto names = split_memory_row_key(row_key);
  if (!names)
    return std::move(names).error();
  try {
    if (r.tag != memory_entry_tag)
      throw std::invalid_argument("record type " + std::to_string(r.tag) + ", not an entry");
    auto j = json::from_msgpack(r.payload);
    memory_entry e;
    e.ns = std::move(names->first);
    e.key = std::move(names->second);
    auto& text = j.at("t").get_binary();
    e.text.assign(text.begin(), text.end());
    auto& v = j.at("v").get_binary();
    if (v.size() % sizeof(float) != 0)
      throw std::invalid_argument("embedding bytes not a whole number of floats");
    e.embedding.resize(v.size() / sizeof(float));
    std::memcpy(e.embedding.data(), v.data(), v.size());
    e.from = {j.at("r").get<std::string>(), j.at("s").get<std::string>(),
              j.at("p").get<std::uint64_t>()};
    e.created_ms = j.at("c").get<std::int64_t>();
    e.expires_ms = j.at("x").get<std::int64_t>();
    return std::pair{std::move(e), j.at("id").get<std::uint64_t>()};
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record, row_name(row_key) + ": " + e.what());
  }
}

record memory_checkpoint_record(const memory_checkpoint& c) {
  json graphs = json::array();
  for (auto& g : c.graphs)
    graphs.push_back({{"ns", g.ns}, {"file", g.file}, {"vectors", g.vectors}, {"hash", g.hash}});
  return packed(memory_state_tag, {{"number", c.number}, {"dim", c.dim}, {"graphs", graphs}});
}

expected<memory_checkpoint> parse_memory_checkpoint(const record& r) {
  try {
    if (r.tag != memory_state_tag)
      throw std::invalid_argument("record type " + std::to_string(r.tag) + ", not a checkpoint");
    auto j = json::from_msgpack(r.payload);
    memory_checkpoint c;
    c.number = j.at("number").get<std::uint64_t>();
    c.dim = j.at("dim").get<std::size_t>();
    for (auto& g : j.at("graphs"))
      c.graphs.push_back({g.at("ns").get<std::string>(), g.at("file").get<std::string>(),
                          g.at("vectors").get<std::uint64_t>(), g.at("hash").get<std::uint64_t>()});
    return c;
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record, std::string{"memory row s/checkpoint: "} + e.what());
  }
}

} // namespace endure::state::detail
