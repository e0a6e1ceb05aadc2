// The options every command's runtime gets from the command line: the
// program's tools and policy, the journal's place and durability, and the
// sim model when none is set.
#pragma once

#include <string>

#include "endure/actors/runtime.hpp"
#include "endure/cli/command.hpp"

namespace endure::cli {

runtime_options command_runtime_options(const command_env& env, runtime_options opts,
                                        const std::string& data_dir, durability mode);

} // namespace endure::cli
