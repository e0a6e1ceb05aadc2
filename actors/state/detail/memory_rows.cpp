// The memory store's row codec (memory_rows.hpp): entries in a fixed
// binary layout (an open reads a million of them: a msgpack map through
// nlohmann-json cost ~10 us each), the checkpoint as msgpack through
// nlohmann-json.
#include "endure/actors/state/detail/memory_rows.hpp"

#include <bit>
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

/// Fixed-width fields little-endian (the machines endure runs on are), and
/// byte strings after a u32 length.
template <class T>
void put_fixed(std::string& out, T v) {
  static_assert(std::endian::native == std::endian::little);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_fixed(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

/// Reads what put_fixed / put_bytes wrote; false once the bytes run out.
struct reader {
  std::string_view rest;
  template <class T>
  bool fixed(T& v) {
    if (rest.size() < sizeof v)
      return false;
    std::memcpy(&v, rest.data(), sizeof v);
    rest.remove_prefix(sizeof v);
    return true;
  }
  bool bytes(std::string_view& v) {
    std::uint32_t n = 0;
    if (!fixed(n) || rest.size() < n)
      return false;
    v = rest.substr(0, n);
    rest.remove_prefix(n);
    return true;
  }
};

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
  std::string out;
  out.reserve(48 + e.from.run_id.size() + e.from.session.size() + e.text.size() +
              e.embedding.size() * sizeof(float));
  put_fixed(out, id);
  put_fixed(out, e.created_ms);
  put_fixed(out, e.expires_ms);
  put_fixed(out, e.from.step);
  put_bytes(out, e.from.run_id);
  put_bytes(out, e.from.session);
  put_bytes(out, e.text);
  put_bytes(out, {reinterpret_cast<const char*>(e.embedding.data()),
                  e.embedding.size() * sizeof(float)});
  return record{memory_entry_tag, 1, std::move(out)};
}

std::vector<float> memory_row_view::floats() const {
  std::vector<float> v(embedding.size() / sizeof(float));
  std::memcpy(v.data(), embedding.data(), v.size() * sizeof(float));
  return v;
}

expected<memory_row_view> view_memory_entry(std::string_view row_key, const record& r) {
  auto fail = [&](const char* why) {
    return make_error(errc::corrupt_record, row_name(row_key) + ": " + why);
  };
  if (r.tag != memory_entry_tag)
    return fail("not an entry record");
  reader in{r.payload};
  memory_row_view v;
  bool ok = in.fixed(v.id) && in.fixed(v.created_ms) && in.fixed(v.expires_ms) &&
            in.fixed(v.step) && in.bytes(v.run_id) && in.bytes(v.session) && in.bytes(v.text) &&
            in.bytes(v.embedding);
  if (!ok || !in.rest.empty())
    return fail("the entry's bytes are cut short or too long");
  if (v.embedding.size() % sizeof(float) != 0)
    return fail("embedding bytes not a whole number of floats");
  return v;
}

expected<std::pair<memory_entry, std::uint64_t>> parse_memory_entry(std::string_view row_key,
                                                                    const record& r) {
  auto names = split_memory_row_key(row_key);
  if (!names)
    return std::move(names).error();
  auto v = view_memory_entry(row_key, r);
  if (!v)
    return std::move(v).error();
  memory_entry e{std::move(names->first), std::move(names->second), std::string{v->text},
                 v->floats(), {std::string{v->run_id}, std::string{v->session}, v->step},
                 v->created_ms, v->expires_ms};
  return std::pair{std::move(e), v->id};
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
