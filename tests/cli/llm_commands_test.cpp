// The LLM side of the command line: `endure fake-openai` started as a child
// process and called over HTTP, its errors for bad input, and the token
// usage and cost that `endure inspect` shows for ctx.llm steps.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <future>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "endure/net/llm_backend.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

net::result<net::chat_response> chat_once(net::llm_backend& llm, const std::string& prompt) {
  auto promise = std::make_shared<std::promise<net::result<net::chat_response>>>();
  auto answer = promise->get_future();
  net::chat_request req;
  req.messages = {net::chat_message::user(prompt)};
  llm.chat(req, [promise](net::result<net::chat_response> r) { promise->set_value(std::move(r)); });
  REQUIRE(answer.wait_for(20s) == std::future_status::ready);
  return answer.get();
}

} // namespace

SCENARIO("endure fake-openai serves its script, then the sim, until SIGTERM", "[cli][llm]") {
  temp_dir dir;
  std::ofstream{dir.file("script.json")}
    << R"([{"status": 429, "headers": {"Retry-After": "2"},)"
    << R"( "body": {"error": {"message": "slow down"}}}])";
  child_process server{{ENDURE_BIN_PATH, "fake-openai", "--port", "0", "--script",
                        dir.file("script.json")}};
  auto line = server.read_line(20s);
  REQUIRE(line);
  const std::string prefix = "fake OpenAI server listening on http://127.0.0.1:";
  REQUIRE(line->rfind(prefix, 0) == 0);
  auto url = line->substr(line->find("http://"));

  net::llm_config config;
  config.base_url = url;
  config.api_key_env = "";
  config.request_timeout = 10s;
  auto llm = net::make_llm_backend(config);
  auto limited = chat_once(*llm, "hello");
  REQUIRE_FALSE(limited);
  CHECK(limited.error().cls == failure_class::rate_limited);
  CHECK(limited.error().retry_after == std::chrono::milliseconds{2000});
  auto answered = chat_once(*llm, "hello");
  REQUIRE(answered);
  CHECK_FALSE(answered->content.empty());
  CHECK(answered->usage.prompt_tokens > 0);

  REQUIRE(::kill(server.pid(), SIGTERM) == 0);
  auto last = server.read_line(20s);
  REQUIRE(last);
  CHECK(*last == "stopping on SIGTERM after 2 requests");
  CHECK(server.wait(20s) == 0);
}

SCENARIO("endure fake-openai rejects bad input clearly", "[cli][llm][errors]") {
  temp_dir dir;
  auto missing = run_endure({"fake-openai", "--script", dir.file("nope.json")});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("cannot read script"));

  std::ofstream{dir.file("object.json")} << R"({"status": 200})";
  auto not_array = run_endure({"fake-openai", "--script", dir.file("object.json")});
  CHECK(not_array.code == 2);
  CHECK_THAT(not_array.err, Catch::Contains("not a JSON array"));

  std::ofstream{dir.file("status.json")} << R"([{"status": 200}, {"status": 42}])";
  auto bad_entry = run_endure({"fake-openai", "--script", dir.file("status.json")});
  CHECK(bad_entry.code == 2);
  CHECK_THAT(bad_entry.err, Catch::Contains("entry 1") && Catch::Contains("42"));

  auto rate = run_endure({"fake-openai", "--fault-rate", "1.5"});
  CHECK(rate.code == 2);
  CHECK_THAT(rate.err, Catch::Contains("--fault-rate"));

  auto sum = run_endure({"fake-openai", "--fault-rate", "0.8", "--timeout-rate", "0.5"});
  CHECK(sum.code == 2);
  CHECK_THAT(sum.err, Catch::Contains("more than 1"));

  auto help = run_endure({"fake-openai", "--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("--script") && Catch::Contains("127.0.0.1"));
}

SCENARIO("endure inspect shows each LLM step's tokens and cost and the run's total",
         "[cli][llm]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto run = run_endure({"--data", data, "--mode", "nosync", "run", "content_pipeline", "--id",
                         "article", "--input", R"("durable agents")"},
                        std::chrono::seconds{120});
  REQUIRE(run.code == 0);
  auto text = run_endure({"--data", data, "inspect", "article"});
  REQUIRE(text.code == 0);
  CHECK_THAT(text.out, Catch::Contains("llm sim: ") && Catch::Contains("completion tokens")
                         && Catch::Contains("llm usage: 20 calls"));
  auto json = run_endure({"--data", data, "inspect", "article", "--json"});
  REQUIRE(json.code == 0);
  auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["usage"]["llm_calls"] == 20);
  std::uint64_t prompt = 0;
  for (auto& step : doc["steps"])
    prompt += step["usage"]["prompt_tokens"].get<std::uint64_t>();
  CHECK(prompt == doc["usage"]["prompt_tokens"].get<std::uint64_t>());
  CHECK(prompt > 0);
}
