// Record tags of durable statefulness's rows (persistence/FORMAT.md, the
// range 64- of later layers). One list, so the concepts of actors/state/
// never collide; a tag is never reused.
#pragma once

#include <cstdint>

namespace endure {
class record_types;
}

namespace endure::state {

inline constexpr std::uint16_t ledger_task_tag = 71;      ///< ledger "t/TASK"
inline constexpr std::uint16_t ledger_item_tag = 72;      ///< ledger "i/TASK/ITEM"
inline constexpr std::uint16_t ledger_evidence_tag = 73;  ///< ledger "e/TASK/ITEM/SEQ"
inline constexpr std::uint16_t progress_entry_tag = 74;   ///< progress "TASK/SESSION"
inline constexpr std::uint16_t artifact_blob_tag = 75;    ///< artifacts, by content hash
inline constexpr std::uint16_t artifact_ref_tag = 76;     ///< artifacts, provenance
inline constexpr std::uint16_t memory_entry_tag = 77;     ///< memory entries
inline constexpr std::uint16_t memory_state_tag = 78;     ///< memory: graph checkpoint
inline constexpr std::uint16_t artifact_index_tag = 79;   ///< artifacts, put identity -> listing
inline constexpr std::uint16_t ledger_state_tag = 80;     ///< ledger "s/TASK/ITEM"
// 81-90: reserved for actors/state/.

/// Declares every tag above to a journal's readers (the runtime and the
/// CLI call it with the workflow events' tags).
void register_record_types(record_types& types);

} // namespace endure::state
