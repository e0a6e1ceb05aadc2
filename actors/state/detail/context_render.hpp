// The text forms the context assembler puts into a prompt: one function per
// kind of entry, each a pure function of its value (no locale: numbers go
// through std::to_chars), so the same state renders to the same bytes.
// Internal to actors/state (context_assembler.cpp); any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "endure/actors/state/ledger_types.hpp"

namespace endure::state {
struct memory_hit;
} // namespace endure::state

namespace endure::state::detail {

/// "# Task: T\nGoal: G\n".
std::string render_task(std::string_view task, std::string_view goal);

/// The current item in full: status, description, acceptance criteria,
/// verification and last evidence (with its output tail).
std::string render_current_item(const ledger_item& item);

/// "\n## Ledger: N items, P passing, F failing\n".
std::string render_counts(std::size_t items, std::size_t passing, std::size_t failing);

/// The heading above the next failing items, and one line per item.
std::string_view next_items_heading();
std::string render_next_item(const ledger_item& item);

/// The progress section's heading, and one entry ("### Session N ...").
std::string_view progress_heading();
std::string render_progress(const progress_entry& p);

/// The memory section's heading, and one hit ("- [key] (score 0.830): text").
std::string_view memories_heading();
std::string render_memory(const memory_hit& m);

/// The recent results' heading, and one result (`n`: 1 for the newest).
std::string_view recent_heading();
std::string render_recent(std::size_t n, std::string_view text);

/// `v` with three decimals, independent of the C and C++ locales.
std::string fixed3(double v);

} // namespace endure::state::detail
