// endure's log: quiet by default, filtered by level, and written through a
// logger the program hands over.
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "endure/persistence/log.hpp"

using namespace endure;

namespace {

/// Routes endure's log into `out` for the scope; restores level and logger.
struct captured_log {
  std::ostringstream out;
  log::level before = log::current_level();

  captured_log() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    auto logger = std::make_shared<spdlog::logger>("endure-test", sink);
    logger->set_pattern("%l|%v");
    logger->set_level(spdlog::level::trace);
    log::use_logger(logger);
  }
  ~captured_log() {
    log::use_logger(nullptr);
    log::set_level(before);
  }
};

} // namespace

TEST_CASE("levels parse from their names and nothing else", "[log]") {
  CHECK(log::parse_level("trace") == log::level::trace);
  CHECK(log::parse_level("warning") == log::level::warn);
  CHECK(log::parse_level("off") == log::level::off);
  CHECK_FALSE(log::parse_level("WARN"));
  CHECK_FALSE(log::parse_level(""));
  for (auto l : {log::level::trace, log::level::debug, log::level::info, log::level::warn,
                 log::level::error, log::level::off})
    CHECK(log::parse_level(log::to_string(l)) == l);
}

TEST_CASE("messages below the level are dropped, the rest reach the logger", "[log]") {
  captured_log cap;
  log::set_level(log::level::warn);
  log::info("run r1 started");
  log::warn("run r1 quarantined");
  log::error("journal write failed");
  CHECK(cap.out.str() == "warning|run r1 quarantined\nerror|journal write failed\n");
  CHECK_FALSE(log::enabled(log::level::info));
  CHECK(log::enabled(log::level::error));
}

TEST_CASE("level off silences everything, debug lets detail through", "[log]") {
  captured_log cap;
  log::set_level(log::level::off);
  log::error("not shown");
  CHECK(cap.out.str().empty());
  log::set_level(log::level::debug);
  log::debug("step 3 dispatched");
  CHECK(cap.out.str() == "debug|step 3 dispatched\n");
}
