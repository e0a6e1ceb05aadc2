// Where the escalation matrix keeps what it learned: the journal's LMDB
// environment (the same one as the runs, so it is exactly as durable),
// three side tables:
//
//   escalation_inputs    id (8 bytes big-endian)  -> task type, features, unit vector
//   escalation_outcomes  seq (8 bytes big-endian) -> decision key, outcome
//   escalation_state     "d/" + hash(key)        -> the assessment made under that key
//                        "o/" + hash(key)        -> that key's outcome was recorded
//                        "r/" + version (BE)     -> a refit (weights, calibration, labels)
//                        "checkpoint"            -> the graphs saved, through which input
//
// LMDB is the source of truth; the hnswlib graphs are a cache saved at
// checkpoints into files beside it and caught up from the inputs at start,
// so a start after kill -9 reads a checkpoint and the inputs since, not
// every input. Rows are built here and committed by the caller (the
// escalation actor), which orders them: an input row goes in the same
// batch as its decision row, an outcome's rows (and the refit it caused) in
// one synced commit. Blocking journal calls; one owner.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/escalation/matrix.hpp"
#include "endure/persistence/error.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure {
class journal;
class record_types;
} // namespace endure

namespace endure::escalation {

/// Record tags of the store's rows (persistence/FORMAT.md).
inline constexpr std::uint16_t input_row_tag = 66;
inline constexpr std::uint16_t outcome_row_tag = 67;
inline constexpr std::uint16_t decision_row_tag = 68;
inline constexpr std::uint16_t refit_row_tag = 69;
inline constexpr std::uint16_t checkpoint_row_tag = 70;

/// The escalation_state key of decision key `key`'s row: `kind` "d/" (its
/// assessment) or "o/" (its outcome marker). For tools and tests.
std::string state_row_key(std::string_view kind, std::string_view key);

/// Declares the store's tags to a journal's readers.
void register_record_types(record_types& types);

struct store_options {
  /// Where checkpoint graph files go. Empty: "escalation" inside the
  /// journal's data directory.
  std::filesystem::path graph_dir;
  /// Inputs between graph checkpoints (0: never save one; every start then
  /// rebuilds the graphs from every input). Default 20,000: a start
  /// inserts at most that many vectors again (about 4 s at 1,000,000
  /// stored); each checkpoint writes every graph (about 0.65 KB per input).
  std::uint64_t checkpoint_every = 20'000;
};

/// What restore() found.
struct restore_report {
  std::uint64_t inputs = 0;        ///< past inputs the matrix holds
  std::uint64_t inserted = 0;      ///< of them, inserted into a graph at start
  std::uint64_t outcomes = 0;
  std::uint64_t refit_version = 0; ///< 0: none journaled
  std::uint64_t checkpoint_through = 0;  ///< 0: no checkpoint loaded
  /// Why a checkpoint was not used (damaged file, ...): the graphs were
  /// rebuilt from the inputs instead. Empty when none was or it loaded.
  std::string checkpoint_problem;
  /// Rows that could not be read and were skipped (named in the log).
  std::uint64_t damaged_rows = 0;
};

class matrix_store {
public:
  matrix_store(journal& store, store_options options);

  const std::filesystem::path& graph_dir() const noexcept { return dir_; }

  /// Restores `m` (a new matrix) from the journal, after every batch queued
  /// before the call has landed (a commit barrier): checkpoint graphs, the
  /// inputs after them (and the last threshold.window before, for the
  /// budget window), every outcome in order, the last refit. A damaged row
  /// is skipped and counted, never fatal: one bad row must not stop the
  /// agents. Errors: the journal's (LMDB failing).
  expected<restore_report> restore(matrix& m);

  /// The assessment made under `key`, if one was journaled (a damaged row
  /// reads as none, logged: the caller assesses again and replaces it).
  expected<std::optional<assessment>> decision(std::string_view key) const;
  /// The rows of an assessment made under `key` (its decision_key set):
  /// the decision, and the input when one was stored (`unit`, `task_type`).
  write_batch assessment_rows(std::string_view task_type, std::span<const float> unit,
                              const assessment& a) const;

  /// Whether an outcome was recorded under `key` (a damaged marker: yes).
  expected<bool> has_outcome(std::string_view key) const;
  /// The rows of an outcome under `key` and of the refit it caused; the
  /// "o/" row is written if absent, so a second outcome for a key fails the
  /// batch with already_exists. Takes the next outcome seq.
  write_batch outcome_rows(std::string_view key, const outcome& o,
                           const std::optional<refit_record>& refit);

  /// Saves the graphs and commits a checkpoint row (synced) when
  /// checkpoint_every inputs were stored since the last one, or since the
  /// last attempt that failed (or `force`); then deletes every other graph
  /// file in graph_dir (the checkpoint's before, any a crash left). Returns
  /// whether one was written.
  expected<bool> checkpoint(const matrix& m, bool force = false);

private:
  /// Deletes the graph files ("novelty-*.hnsw[.tmp]") in the directory
  /// other than checkpoint_files_.
  void remove_other_graph_files() const;

  journal* store_;
  store_options opts_;
  std::filesystem::path dir_;
  std::uint64_t next_outcome_seq_ = 1;
  std::uint64_t checkpoint_through_ = 0;
  std::uint64_t checkpoint_tried_ = 0;  ///< through of the last attempt
  std::vector<std::string> checkpoint_files_;
};

} // namespace endure::escalation
