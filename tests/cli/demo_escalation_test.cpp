// Stage 4 of `endure demo` when something goes wrong: a run that fails, a
// run nobody answers, an answer the gateway refuses. Each ends the stage
// with an error naming the run, instead of an exception about decoding, a
// silent miss, or the same question printed every 20 ms.
#include <catch2/catch.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/cli/demo_escalation.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

task<agent::agent_answer> failing(context&, std::string) {
  throw fatal_error("the model is gone");
  co_return agent::agent_answer{};
}

task<agent::agent_answer> asking(context& ctx, std::string) {
  auto asked = ctx.ask_human("Refund order 1001?", {"approve", "reject"});
  auto reply = co_await std::move(asked);
  agent::agent_answer a;
  a.text = reply;
  co_return a;
}

void workflows(workflow_registry& r) {
  r.add("failing", &failing);
  r.add("asking", &asking);
}

void with_tools(runtime_options& o) { o.tools = std::make_shared<agent::tool_registry>(); }

expected<void> nothing() { return {}; }

} // namespace

SCENARIO("the demo's escalation stage: a run that does not complete is an error naming it",
         "[cli][demo]") {
  runtime_fixture f{workflows, with_tools};
  GIVEN("a run that fails") {
    REQUIRE(f.rt().start("failing", "d1", std::string{}));
    auto a = cli::await_reviewed(f.rt(), "d1", nothing, 10s);
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("run d1 failed") &&
                                    Catch::Contains("the model is gone"));
  }
  GIVEN("a run whose question nobody answers") {
    REQUIRE(f.rt().start("asking", "d2", std::string{}));
    std::size_t reviews = 0;
    auto a = cli::await_reviewed(f.rt(), "d2", [&]() -> expected<void> {
      ++reviews;
      return {};
    }, 300ms);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == errc::timeout);
    CHECK_THAT(a.error().message, Catch::Contains("run d2 did not end within 300 ms"));
    CHECK(reviews > 0);
  }
  GIVEN("a run that completes once its question is answered") {
    REQUIRE(f.rt().start("asking", "d3", std::string{}));
    std::vector<std::string> reasons;
    auto review = [&]() -> expected<void> {
      auto answered = cli::answer_questions(
        f.rt(), "d3", "approve", [&](const std::string& r) { reasons.push_back(r); });
      if (!answered)
        return std::move(answered).error();
      return {};
    };
    auto a = cli::await_reviewed(f.rt(), "d3", review, 10s);
    REQUIRE(a);
    CHECK(a->text == "approve");
    CHECK(reasons == std::vector<std::string>{"(no breakdown)"});
  }
}

SCENARIO("the demo's reviewer: an answer the gateway refuses is an error, asked once",
         "[cli][demo]") {
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("asking", "r1", std::string{}));
  std::size_t asked = 0;
  auto review = [&]() -> expected<void> {
    auto answered = cli::answer_questions(f.rt(), "r1", "accept",  // not a choice
                                          [&](const std::string&) { ++asked; });
    if (!answered)
      return std::move(answered).error();
    return {};
  };
  auto a = cli::await_reviewed(f.rt(), "r1", review, 10s);
  REQUIRE_FALSE(a);
  CHECK_THAT(a.error().message, Catch::Contains("of run r1 was refused") &&
                                  Catch::Contains("approve"));
  CHECK(asked == 1);
}
