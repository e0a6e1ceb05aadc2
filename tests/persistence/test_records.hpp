// Shared helpers of the persistence tests: a record type tag for test
// payloads and a journal opened on a temp dir.
#pragma once

#include <memory>
#include <string>

#include "endure/persistence/journal.hpp"

namespace endure::test {

inline constexpr std::uint16_t test_tag = 100;

/// A deterministic 200-byte payload for (run, seq), as the crash child writes.
inline std::string payload_for(const std::string& run, std::uint64_t seq) {
  std::string p = "payload:" + run + ":" + std::to_string(seq) + ":";
  p.resize(200, '.');
  return p;
}

inline record test_record(const std::string& run, std::uint64_t seq) {
  return record{test_tag, 1, payload_for(run, seq)};
}

inline std::unique_ptr<journal> open_journal(journal_options opts) {
  auto j = journal::open(std::move(opts));
  if (!j)
    throw std::runtime_error(j.error().to_string());
  (*j)->types().add(test_tag, 1, "test");
  return std::move(*j);
}

inline std::unique_ptr<journal> open_journal(const std::string& dir) {
  journal_options opts;
  opts.data_dir = dir;
  return open_journal(std::move(opts));
}

/// Options of a read-only journal on `dir` (as `endure inspect` opens it).
inline journal_options read_only_options(const std::string& dir) {
  journal_options opts;
  opts.data_dir = dir;
  opts.read_only = true;
  return opts;
}

inline run_meta make_run(const std::string& id, const std::string& workflow = "wf") {
  run_meta m;
  m.id = id;
  m.workflow = workflow;
  m.created_at_ms = 1000;
  m.updated_at_ms = 1000;
  return m;
}

} // namespace endure::test
