// Registration of durable statefulness's record tags (record_tags.hpp).
#include "endure/actors/state/record_tags.hpp"

#include "endure/persistence/record.hpp"

namespace endure::state {

void register_record_types(record_types& types) {
  types.add(ledger_task_tag, 1, "ledger_task");
  types.add(ledger_item_tag, 1, "ledger_item");
  types.add(ledger_evidence_tag, 1, "ledger_evidence");
  types.add(ledger_state_tag, 1, "ledger_item_state");
  types.add(progress_entry_tag, 1, "progress_entry");
  types.add(artifact_blob_tag, 1, "artifact_blob");
  types.add(artifact_ref_tag, 1, "artifact_listing");
  types.add(artifact_index_tag, 1, "artifact_index");
  types.add(memory_entry_tag, 1, "memory_entry");
  types.add(memory_state_tag, 1, "memory_state");
}

} // namespace endure::state
