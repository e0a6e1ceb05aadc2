// A run's timeline as the CLI names it: the code moved to
// net/console/run_timeline.hpp so `endure inspect --json` and the console's
// GET /api/v1/runs/ID show the same thing.
#pragma once

#include "endure/cli/journal_view.hpp"  // the timeline was read with these names
#include "endure/net/console/run_timeline.hpp"

namespace endure::cli {

using console::attempt_view;
using console::build_timeline;
using console::retries_by_class;
using console::run_timeline;
using console::step_view;

} // namespace endure::cli
