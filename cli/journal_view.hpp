// The journal view as the CLI names it: the code moved to
// net/console/journal_view.hpp so the console (which the CLI links) reads a
// run's records the same way; these names keep the commands unchanged.
#pragma once

#include "endure/net/console/journal_view.hpp"

namespace endure::cli {

using console::format_duration_ms;
using console::now_ms;
using console::open_journal_view;
using console::read_events;
using console::seq_event;
using console::summarise;

} // namespace endure::cli
