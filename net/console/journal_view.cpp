// Read-only journal access and text helpers for the CLI and the console (journal_view.hpp).
#include "endure/net/console/journal_view.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <msgpack.hpp>

namespace endure::console {

expected<std::unique_ptr<journal>> open_journal_view(const std::string& data_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path{data_dir} / "data.mdb", ec))
    return make_error(errc::not_found, "no journal in data directory " + data_dir
                                         + ": nothing has run there yet (check --data)");
  journal_options opts;
  opts.data_dir = data_dir;
  opts.read_only = true;
  auto j = journal::open(opts);
  if (!j)
    return j;
  register_event_types((*j)->types());
  return j;
}

expected<std::vector<seq_event>> read_events(const journal& j, const std::string& run_id) {
  auto records = j.read(run_id);
  if (!records)
    return records.error();
  std::vector<seq_event> out;
  out.reserve(records->size());
  for (auto& r : *records) {
    auto e = decode_event(r.rec, run_id, r.seq);
    if (!e)
      return e.error();
    out.push_back({r.seq, std::move(*e)});
  }
  return out;
}

std::string summarise(std::string_view bytes, std::size_t max) {
  std::string text;
  try {
    msgpack::unpack_limit limit{10000, 10000, 1 << 20, 1 << 20, 10000, 16};
    auto h = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, limit);
    auto obj = h.get();
    if (obj.type == msgpack::type::STR)
      text = obj.as<std::string>();
    else {
      std::ostringstream os;
      os << obj;
      text = os.str();
    }
  } catch (const std::exception&) {
    text = "<" + std::to_string(bytes.size()) + " bytes, not msgpack>";
  }
  for (auto& c : text)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  if (text.size() > max)
    text = text.substr(0, max) + "...";
  return text;
}

std::string format_duration_ms(std::int64_t ms) {
  char buf[32];
  if (ms < 0)
    ms = 0;
  if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  else if (ms < 60'000)
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  else if (ms < 3'600'000)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  else if (ms < 86'400'000)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms / 60'000 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%lldh", static_cast<long long>(ms / 86'400'000),
                  static_cast<long long>(ms / 3'600'000 % 24));
  return buf;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace endure::console
