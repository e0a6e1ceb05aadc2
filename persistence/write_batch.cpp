// write_batch: records and rows are encoded here, on the caller's thread.
#include "endure/persistence/write_batch.hpp"

#include "endure/persistence/detail/row_condition.hpp"
#include "endure/persistence/detail/run_meta_codec.hpp"

namespace endure {

void write_batch::create_run(const run_meta& meta) {
  ops_.push_back({op_kind::create_run, meta.id, 0, meta.created_at_ms,
                  detail::encode_run_meta(meta), meta.status});
}

void write_batch::append(std::string run_id, std::uint64_t seq, const record& r) {
  ops_.push_back({op_kind::append, std::move(run_id), seq, 0, encode_record(r),
                  run_status::running});
}

void write_batch::set_status(std::string run_id, run_status status,
                             std::string detail, std::int64_t now_ms, bool unless_ended) {
  ops_.push_back({op_kind::set_status, std::move(run_id), unless_ended ? 1u : 0u, now_ms,
                  std::move(detail), status});
}

void write_batch::put_snapshot(std::string run_id, std::uint64_t seq,
                               std::string state) {
  ops_.push_back({op_kind::put_snapshot, std::move(run_id), seq, 0,
                  detail::encode_snapshot(seq, state), run_status::running});
}

void write_batch::truncate_before(std::string run_id, std::uint64_t seq) {
  ops_.push_back({op_kind::truncate_before, std::move(run_id), seq, 0, {},
                  run_status::running});
}

void write_batch::put_timer(timer_entry t) {
  ops_.push_back({op_kind::put_timer, std::move(t.run_id), t.timer_id,
                  t.due_at_ms, {}, run_status::running});
}

void write_batch::erase_timer(timer_entry t) {
  ops_.push_back({op_kind::erase_timer, std::move(t.run_id), t.timer_id,
                  t.due_at_ms, {}, run_status::running});
}

void write_batch::erase_timer_if_ended(timer_entry t) {
  ops_.push_back({op_kind::erase_timer_if_ended, std::move(t.run_id), t.timer_id,
                  t.due_at_ms, {}, run_status::running});
}

// journal::impl keeps a table's handle at index = its value
// (detail/journal_impl.hpp): the values run 1..N with no gap.
static_assert([] {
  for (std::size_t i = 0; i < std::size(all_side_tables); ++i)
    if (static_cast<std::size_t>(all_side_tables[i]) != i + 1)
      return false;
  return true;
}());

const char* table_name(side_table t) noexcept {
  switch (t) {
    case side_table::requests:
      return "requests";
    case side_table::request_index:
      return "request_index";
    case side_table::escalation_inputs:
      return "escalation_inputs";
    case side_table::escalation_outcomes:
      return "escalation_outcomes";
    case side_table::escalation_state:
      return "escalation_state";
    case side_table::ledger:
      return "ledger";
    case side_table::progress:
      return "progress";
    case side_table::artifacts:
      return "artifacts";
    case side_table::memory:
      return "memory";
    case side_table::pending_requests:
      return "pending_requests";
  }
  return "unknown";
}

void write_batch::put_row(side_table table, std::string key, const record& r, bool if_absent) {
  auto condition = if_absent ? detail::row_if_absent : detail::row_always;
  ops_.push_back({op_kind::put_row, std::move(key), condition, 0, encode_record(r),
                  run_status::running, table});
}

void write_batch::put_row_if(side_table table, std::string key, const record& r,
                             const record& expected) {
  ops_.push_back({op_kind::put_row, std::move(key), detail::row_if_hash,
                  static_cast<std::int64_t>(detail::envelope_hash(encode_record(expected))),
                  encode_record(r), run_status::running, table});
}

void write_batch::erase_row(side_table table, std::string key) {
  ops_.push_back({op_kind::erase_row, std::move(key), 0, 0, {}, run_status::running, table});
}

void write_batch::splice(write_batch&& other) {
  if (ops_.empty()) {
    ops_ = std::move(other.ops_);
  } else {
    ops_.insert(ops_.end(), std::make_move_iterator(other.ops_.begin()),
                std::make_move_iterator(other.ops_.end()));
  }
  other.ops_.clear();
}

} // namespace endure
