// bench/escalation --reopen N: the escalation store at size. A child
// process stores N inputs of one task type as the escalation actor does
// (rows in LMDB in batches, a graph checkpoint every 20,000 inputs (the default)) and is
// killed with SIGKILL; then the store is reopened in this process and
// timed until queryable, and decisions are timed on the reopened matrix.
#pragma once

#include <cstddef>

namespace endure::bench {

int run_reopen(std::size_t inputs);

} // namespace endure::bench
