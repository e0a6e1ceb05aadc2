// What the session loop tells the tools (session_loop.hpp, orient): the
// item a session works on, written before the agent starts to
// WORKSPACE/.endure/current-item.json (ignored by the workspace's git).
// A tool that acts on "the current item" (writes its file, runs its
// check) reads it here instead of trusting the model to name it. The file
// is information, not state: whatever a tool writes into it changes
// nothing in the ledger.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "endure/actors/state/ledger_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure::state {

/// The file, relative to the workspace.
inline constexpr const char* current_item_file = ".endure/current-item.json";

struct current_item {
  std::string task;
  std::uint32_t session = 0;
  ledger_item item;  ///< as stored when the session oriented
};

/// Reads it. Errors: not_found (no session has oriented in `workspace`),
/// corrupt_record (not the runtime's JSON: a tool overwrote it).
expected<current_item> read_current_item(const std::filesystem::path& workspace);

/// The JSON the session loop writes (`item` as to_json_text, plus "task"
/// and "session").
std::string current_item_json(const std::string& task, std::uint32_t session,
                              const ledger_item& item);

} // namespace endure::state
