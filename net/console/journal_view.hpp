// Reading a data directory's journal from the CLI without owning it: the
// journal is opened read-only (no lock), so `list`, `inspect` and the demo's
// progress display work next to a live `serve` or worker. Also the small
// text helpers those commands share. Here, below the CLI (which links the
// console), because the console's run timeline reads the journal the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/events.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::console {

/// Opens `data_dir`'s journal read-only with the workflow event types
/// registered. Errors say which directory and what to do.
expected<std::unique_ptr<journal>> open_journal_view(const std::string& data_dir);

/// A run's records decoded to events, in seq order; the first damaged
/// record fails the read with an error naming run and seq.
struct seq_event {
  std::uint64_t seq = 0;
  run_event event;
};
expected<std::vector<seq_event>> read_events(const journal& j, const std::string& run_id);

/// A msgpack value as short text: at most `max` characters, "..." if cut.
std::string summarise(std::string_view msgpack_bytes, std::size_t max = 60);

/// A duration as "850ms", "12.3s", "4m05s", "3h12m", "2d4h".
std::string format_duration_ms(std::int64_t ms);

/// Milliseconds since the Unix epoch.
std::int64_t now_ms();

} // namespace endure::console
