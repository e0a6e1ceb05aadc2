// Making a directory's entries durable: after a file is created in it or
// renamed into it, the new name survives a power loss only once the
// directory itself is synced (fsync(2) on the file is not enough).
// Internal to endure: the escalation graphs, the auth token file and the
// cluster's replica keeper use it.
#pragma once

#include <filesystem>

#include "endure/persistence/error.hpp"

namespace endure {

/// fsync(2) of directory `dir`, so that it lists its entries as it does
/// now. A file system that cannot sync a directory (EINVAL: it has nothing
/// to make durable that way) counts as success; any other failure is an
/// errc::io_error naming the directory and the system's reason.
expected<void> sync_directory(const std::filesystem::path& dir);

} // namespace endure
