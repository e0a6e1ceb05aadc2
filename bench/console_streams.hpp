// Figure 3 of bench/console: what open event streams (GET /api/v1/events)
// cost: the process's memory with `streams` of them open and drained by a
// reader thread, and step throughput with them against without, batches
// interleaved so both see the same machine. Main thread; the reader runs
// on a thread of its own while streams are open.
#pragma once

#include <cstddef>
#include <string>

#include "bench/console_under_test.hpp"

namespace endure::bench {

struct stream_figures {
  double open_mib = 0;        ///< PSS added by opening the streams (idle)
  double busy_mib = 0;        ///< PSS added, measured after a step batch with them open
  double steps_without = 0;   ///< steps/s, median of the batches without streams
  double steps_with = 0;      ///< steps/s, median of the batches with streams open
  double events_mib = 0;      ///< event bytes the streams received in all
  std::size_t opened = 0;     ///< streams that answered 200 (of `streams`)
  std::size_t dropped = 0;    ///< streams the server closed while open
  std::string refusal;        ///< the first answer to an opening that was not 200
  int bad = 0;
};

/// `batches` pairs; each batch starts `runs` runs of steps_workflow at once
/// and waits for all of them. The streams ask GET `target` (the page's own
/// stream: run and request events; "?steps=all": every step event too);
/// with the plain target the first stream follows a run of each batch
/// (?run=ID), as a page showing a timeline does.
stream_figures measure_streams(console_under_test& c, std::size_t streams, std::size_t runs,
                               int batches, const std::string& target);

} // namespace endure::bench
