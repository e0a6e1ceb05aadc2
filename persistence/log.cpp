// endure's log over spdlog (see log.hpp). The logger is found or made on
// first use; the level filter is ours, one atomic, so a disabled message
// never reaches spdlog.
#include "endure/persistence/log.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace endure::log {

namespace {

constexpr const char* logger_name = "endure";

level level_from_environment() noexcept {
  if (const char* text = std::getenv("ENDURE_LOG"))
    if (auto l = parse_level(text))
      return *l;
  return level::warn;
}

std::atomic<int>& threshold() {
  static std::atomic<int> value{static_cast<int>(level_from_environment())};
  return value;
}

struct logger_slot {
  std::mutex mutex;
  std::shared_ptr<spdlog::logger> logger;
};

logger_slot& slot() {
  static logger_slot s;
  return s;
}

/// The program's "endure" logger if it registered one, else ours on stderr.
std::shared_ptr<spdlog::logger> make_default_logger() {
  if (auto registered = spdlog::get(logger_name))
    return registered;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(logger_name, std::move(sink));
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [endure] [%l] %v");
  logger->set_level(spdlog::level::trace);  // filtered by threshold() already
  return logger;
}

std::shared_ptr<spdlog::logger> current_logger() {
  auto& s = slot();
  std::lock_guard<std::mutex> guard{s.mutex};
  if (!s.logger)
    s.logger = make_default_logger();
  return s.logger;
}

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
    case level::trace: return spdlog::level::trace;
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warn: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
    case level::off: return spdlog::level::off;
  }
  return spdlog::level::err;
}

} // namespace

std::optional<level> parse_level(std::string_view text) noexcept {
  if (text == "trace") return level::trace;
  if (text == "debug") return level::debug;
  if (text == "info") return level::info;
  if (text == "warn" || text == "warning") return level::warn;
  if (text == "error") return level::error;
  if (text == "off") return level::off;
  return std::nullopt;
}

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::trace: return "trace";
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: return "off";
  }
  return "error";
}

void set_level(level l) noexcept { threshold().store(static_cast<int>(l)); }

level current_level() noexcept { return static_cast<level>(threshold().load()); }

bool enabled(level l) noexcept {
  return l != level::off && static_cast<int>(l) >= threshold().load(std::memory_order_relaxed);
}

void use_logger(std::shared_ptr<spdlog::logger> logger) {
  auto& s = slot();
  std::lock_guard<std::mutex> guard{s.mutex};
  s.logger = std::move(logger);
}

void write(level l, std::string_view message) {
  if (!enabled(l))
    return;
  try {
    current_logger()->log(to_spdlog(l), "{}", message);
  } catch (...) {
    // A log that cannot be written must not take the runtime down with it.
  }
}

} // namespace endure::log
