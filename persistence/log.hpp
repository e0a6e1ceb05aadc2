// endure's log: what the runtime has to tell a person who is not looking at
// a run's status (a run quarantined, a run actor crashed, recovery skipped a
// damaged run, a write failed, a callback threw).
//
// Messages go to one spdlog logger named "endure". Quiet by default: only
// warnings and errors, to stderr. The level comes from, in order: a call to
// set_level, the environment variable ENDURE_LOG (trace, debug, info, warn,
// error, off), else warn. A program that already uses spdlog can register
// its own logger under the name "endure" before endure first logs, or hand
// one to use_logger(); endure then writes through it (its sinks, its
// format), still filtered by the level here.
//
// Every function is thread-safe. This header stays free of spdlog and fmt:
// callers build the message (a string), so logging costs nothing to
// compile where it is used and one atomic load where it is filtered out.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

namespace spdlog {
class logger;
} // namespace spdlog

namespace endure::log {

enum class level : int { trace = 0, debug, info, warn, error, off };

/// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "off".
std::optional<level> parse_level(std::string_view text) noexcept;
/// "warn", ...
std::string_view to_string(level l) noexcept;

/// The lowest level written. Default: ENDURE_LOG, else warn.
void set_level(level l) noexcept;
level current_level() noexcept;
/// True if a message at `l` would be written (build costly messages only then).
bool enabled(level l) noexcept;

/// Writes through `logger` from now on (nullptr: back to endure's own
/// stderr logger). The level filter here still applies first.
void use_logger(std::shared_ptr<spdlog::logger> logger);

/// Writes `message` at `l` if enabled.
void write(level l, std::string_view message);

inline void debug(std::string_view m) { write(level::debug, m); }
inline void info(std::string_view m) { write(level::info, m); }
inline void warn(std::string_view m) { write(level::warn, m); }
inline void error(std::string_view m) { write(level::error, m); }

} // namespace endure::log
