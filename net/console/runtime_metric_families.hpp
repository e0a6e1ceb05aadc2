// The metrics endure exposes at GET /metrics: each family's name, help,
// type and labels, filled from a runtime_metrics snapshot. This file is
// the catalogue (net/console/README.md lists it for users); metrics_text
// renders it. Pure; any thread.
#pragma once

#include <vector>

#include "endure/actors/runtime_metrics.hpp"
#include "endure/net/console/metrics_text.hpp"

namespace endure::console {

/// The families of `m`, in a fixed order. Every label value of a by-class,
/// by-status or by-decision family is present, zero or not, so a rate()
/// over them never starts from a missing series. A gauge whose source
/// could not be read (m.pending_requests or m.journal empty) has no
/// sample; the journal's histograms are left out without m.journal.
std::vector<metric_family> runtime_metric_families(const runtime_metrics& m);

} // namespace endure::console
