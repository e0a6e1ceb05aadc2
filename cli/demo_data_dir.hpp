// Clearing a demo stage's data directory before the stage writes it again.
// The demo prints how to look at its directories with `endure serve` and
// others; one of those may still hold a directory when the demo runs again,
// and deleting the journal under a live process would leave it writing to
// an unlinked file while the demo writes a new one. Internal to cli/.
#pragma once

#include <string>

#include "endure/persistence/error.hpp"

namespace endure::cli {

/// Removes `dir` and everything in it, holding its data directory lock
/// meanwhile; errc::data_dir_locked (naming the holder's pid) while another
/// process has the directory open for writing, errc::io_error when it
/// cannot be removed. A missing `dir` is fine.
expected<void> clear_demo_dir(const std::string& dir);

} // namespace endure::cli
