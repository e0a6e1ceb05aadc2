// kill -9 after a ctx.llm step was journaled: the restarted process replays
// the answer from the journal instead of asking the model again. Real child
// processes, real HTTP over loopback to a fake OpenAI server in this
// process.
#include <catch2/catch.hpp>

#include "endure/actors/context.hpp"
#include "endure/actors/run_usage.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/net/fake_openai_server.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// The answer journaled for step "ask", read-only (as `endure inspect` does).
std::string journaled_answer(const std::string& data_dir) {
  auto j = cli::open_journal_view(data_dir);
  REQUIRE(j);
  auto events = cli::read_events(**j, "crash-run");
  REQUIRE(events);
  for (auto& e : *events)
    if (auto* done = std::get_if<step_completed_event>(&e.event); done && done->name == "ask")
      return from_bytes<net::chat_response>(done->result).content;
  FAIL("no journaled answer for step 'ask'");
  return {};
}

/// Reads the child's lines until one starts with `prefix` (bounded).
std::optional<std::string> line_starting(child_process& child, const std::string& prefix) {
  for (int i = 0; i < 50; ++i) {
    auto line = child.read_line(30s);
    if (!line)
      return std::nullopt;
    if (line->rfind(prefix, 0) == 0)
      return line;
  }
  return std::nullopt;
}

} // namespace

SCENARIO("a journaled LLM answer is not requested again after kill -9", "[crash][llm]") {
  net::fake_openai_server server;
  temp_dir dir;
  auto data = dir.file("data");
  std::vector<std::string> argv{LLM_CHILD_PATH, data, server.base_url()};

  std::string answer;
  {
    child_process first{argv};
    REQUIRE(line_starting(first, "gate waiting"));
    // The gate step started, so the LLM step is durable: check it read-only.
    auto j = cli::open_journal_view(data);
    REQUIRE(j);
    auto usage = read_run_usage(**j, "crash-run");
    REQUIRE(usage);
    REQUIRE(usage->steps.size() == 1);
    CHECK(usage->tokens() > 0);
    answer = journaled_answer(data);
    REQUIRE_FALSE(answer.empty());
    first.kill_hard();
  }
  CHECK(server.requests() == 1);

  child_process second{argv};
  REQUIRE(line_starting(second, "gate waiting"));
  second.write_stdin("open\n");
  auto result = line_starting(second, "result: ");
  REQUIRE(result);
  CHECK(second.wait(30s) == 0);
  CHECK(*result == "result: " + answer + " / gate open");
  CHECK(server.requests() == 1);
  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].target == "/v1/chat/completions");
  auto j = cli::open_journal_view(data);
  REQUIRE(j);
  auto usage = read_run_usage(**j, "crash-run");
  REQUIRE(usage);
  CHECK(usage->steps.size() == 1);  // the replayed step is not counted again
}
