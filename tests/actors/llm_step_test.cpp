// ctx.llm and ctx.http as durable steps, against the fake OpenAI server over
// real loopback HTTP: each failure class goes through the retry machinery,
// answers and their usage are journaled, a replayed step is neither sent
// again nor counted twice, and a runtime without a model says so.
#include <catch2/catch.hpp>

#include <mutex>
#include <optional>
#include <thread>

#include "actors/runtime_fixture.hpp"
#include "endure/net/fake_openai_server.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

net::chat_request question(const std::string& prompt) {
  net::chat_request req;
  req.messages = {net::chat_message::user(prompt)};
  return req;
}

// Steps are bound to named locals before co_await (g++ 12, see README).
task<std::string> ask(context& ctx, std::string prompt) {
  auto op = ctx.llm("ask", question(prompt)).retry(fast(4));
  auto answer = co_await std::move(op);
  co_return answer.content;
}

// run_inline() only concerns ctx.step functions: an LLM step with it keeps
// its attempt timeout and is not refused.
task<std::string> ask_inline_timed(context& ctx, std::string prompt) {
  auto policy = fast(4);
  policy.attempt_timeout = 10s;
  auto op = ctx.llm("ask", question(prompt)).retry(policy).run_inline();
  auto answer = co_await std::move(op);
  co_return answer.content;
}

task<std::string> ask_twice(context& ctx, std::string prompt) {
  auto first_op = ctx.llm("first", question(prompt + " one")).retry(fast(4));
  auto first = co_await std::move(first_op);
  auto gate = ctx.wait_signal<std::string>("go");
  co_await std::move(gate);
  auto second_op = ctx.llm("second", question(prompt + " two")).retry(fast(4));
  auto second = co_await std::move(second_op);
  co_return first.content + "|" + second.content;
}

task<std::string> fetch(context& ctx, std::string url) {
  net::http_request req;
  req.method = "POST";
  req.url = url;
  req.body = "payload";
  auto op = ctx.http("fetch", std::move(req)).retry(fast(4));
  auto response = co_await std::move(op);
  co_return std::to_string(response.status) + " " + response.body;
}

void workflows(workflow_registry& r) {
  r.add("ask", &ask);
  r.add("ask_twice", &ask_twice);
  r.add("ask_inline_timed", &ask_inline_timed);
  r.add("fetch", &fetch);
}

net::llm_config fake_config(const net::fake_openai_server& server) {
  net::llm_config c;
  c.base_url = server.base_url();
  c.model = "fake";
  c.api_key_env = "";
  c.request_timeout = 10s;
  c.input_price_per_1k = 0.5;
  c.output_price_per_1k = 2.0;
  return c;
}

/// A runtime whose model is the fake server (a fresh backend per open, held
/// by the runtime alone, so it stops before the actor system).
std::function<void(runtime_options&)> with_model(const net::fake_openai_server& server) {
  auto config = fake_config(server);
  return [config](runtime_options& o) { o.llm = net::make_llm_backend(config); };
}

std::vector<step_failed_event> failures(runtime& rt, const std::string& run) {
  std::vector<step_failed_event> out;
  auto records = rt.store().read(run);
  REQUIRE(records);
  for (auto& r : *records) {
    auto ev = decode_event(r.rec, run, r.seq);
    REQUIRE(ev);
    if (auto* f = std::get_if<step_failed_event>(&*ev))
      out.push_back(*f);
  }
  return out;
}

/// Runs `workflow` once against a fresh fake server (which first gives
/// `scripted`, if any); returns the outcome, the failed attempts of its
/// steps, the requests the server saw and the run's usage.
struct scripted_run {
  run_outcome outcome;
  std::vector<step_failed_event> failed;
  std::size_t requests = 0;
  std::optional<run_usage> usage;
};
scripted_run run_once(const std::string& workflow,
                      std::optional<net::scripted_response> scripted = std::nullopt) {
  net::fake_openai_server server;
  if (scripted)
    server.push(std::move(*scripted));
  runtime_fixture f{workflows, with_model(server)};
  REQUIRE(f.rt().start(workflow, "r", std::string{"a question"}));
  auto out = f.rt().wait("r", 20s);
  REQUIRE(out);
  auto usage = f.rt().usage("r");
  return {*out, failures(f.rt(), "r"), server.requests(),
          usage ? std::optional<run_usage>{*usage} : std::nullopt};
}

scripted_run ask_after(net::scripted_response scripted) {
  return run_once("ask", std::move(scripted));
}

std::string error_body(const std::string& message, const std::string& code = "") {
  return R"({"error":{"message":")" + message + R"(","type":"invalid_request_error","code":")"
         + code + R"("}})";
}

} // namespace

SCENARIO("ctx.llm journals the answer and replays it without calling again", "[llm]") {
  auto run = run_once("ask");
  REQUIRE(run.outcome.status == run_status::completed);
  auto answer = run.outcome.value<std::string>();
  CHECK_FALSE(answer.empty());
  CHECK(run.requests == 1);
  auto& usage = run.usage;
  REQUIRE(usage);
  REQUIRE(usage->steps.size() == 1);
  CHECK(usage->steps[0].name == "ask");
  CHECK(usage->prompt_tokens > 0);
  CHECK(usage->completion_tokens > 0);
  CHECK(usage->cost_usd == Approx(usage->prompt_tokens * 0.5 / 1000
                                  + usage->completion_tokens * 2.0 / 1000));
}

SCENARIO("run_inline() on an LLM step changes nothing", "[llm]") {
  auto run = run_once("ask_inline_timed");
  CHECK(run.outcome.status == run_status::completed);
  CHECK(run.outcome.error.empty());
  CHECK(run.requests == 1);
}

SCENARIO("ctx.llm passes the attempt number to the model", "[llm]") {
  struct recording_backend : net::llm_backend {
    std::mutex m;
    std::vector<std::uint32_t> attempts;
    std::string name_ = "recording";
    const std::string& name() const noexcept override { return name_; }
    void chat(net::chat_request req, chat_callback done) override {
      {
        std::lock_guard lock{m};
        attempts.push_back(req.attempt);
      }
      if (req.attempt == 0)
        return done(net::make_failure(failure_class::retryable, "first attempt fails", 503));
      net::chat_response r;
      r.content = "answer on attempt " + std::to_string(req.attempt);
      r.usage = {10, 5, 15};
      done(std::move(r));
    }
    void embed(net::embedding_request, embed_callback done) override {
      done(net::make_failure(failure_class::fatal, "no embeddings"));
    }
  };
  auto backend = std::make_shared<recording_backend>();
  {
    runtime_fixture f{workflows, [backend](runtime_options& o) { o.llm = backend; }};
    REQUIRE(f.rt().start("ask", "r", std::string{"x"}));
    auto out = f.rt().wait("r", 20s);
    REQUIRE(out);
    CHECK(out->value<std::string>() == "answer on attempt 1");
  }
  CHECK(backend->attempts == std::vector<std::uint32_t>{0, 1});
}

SCENARIO("a 429 from the model is retried after its Retry-After", "[llm]") {
  auto r = ask_after({429, {{"Retry-After", "1"}}, error_body("slow down")});
  CHECK(r.outcome.status == run_status::completed);
  CHECK(r.requests == 2);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].cls == failure_class::rate_limited);
  CHECK(r.failed[0].http_status == 429);
  CHECK(r.failed[0].retry_at_ms - r.failed[0].at_ms >= 1000);
}

SCENARIO("a 500 from the model is retried, then the answer is used", "[llm]") {
  auto r = ask_after({500, {}, error_body("internal error")});
  CHECK(r.outcome.status == run_status::completed);
  CHECK(r.requests == 2);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].cls == failure_class::retryable);
  CHECK(r.failed[0].http_status == 500);
}

SCENARIO("a 400 from the model is fatal: not retried, the run fails", "[llm]") {
  auto r = ask_after({400, {}, error_body("bad request: unknown field")});
  CHECK(r.outcome.status == run_status::failed);
  CHECK_THAT(r.outcome.error, Catch::Contains("step 'ask'") && Catch::Contains("fatal")
                                && Catch::Contains("unknown field"));
  CHECK(r.requests == 1);
}

SCENARIO("context length exceeded is its own class and not retried", "[llm]") {
  auto r = ask_after({400, {},
                      error_body("This model's maximum context length is 8192 tokens",
                                 "context_length_exceeded")});
  CHECK(r.outcome.status == run_status::failed);
  CHECK_THAT(r.outcome.error, Catch::Contains("context_length_exceeded"));
  CHECK(r.requests == 1);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].cls == failure_class::context_length_exceeded);
  CHECK(r.failed[0].final);
}

SCENARIO("usage is summed per run and not counted again after a replay", "[llm]") {
  net::fake_openai_server server;
  runtime_fixture f{workflows, with_model(server)};
  REQUIRE(f.rt().start("ask_twice", "r", std::string{"usage"}));
  REQUIRE(server.wait_for_requests(1, 20s));
  // The first step is journaled before the run waits for "go".
  expected<run_usage> before = make_error(errc::not_found, "not yet");
  CHECK(eventually([&] {
    before = f.rt().usage("r");
    return before && before->steps.size() == 1;
  }));
  REQUIRE(before);
  REQUIRE(before->steps.size() == 1);

  f.reopen();  // a restart: the first step is replayed from the journal
  REQUIRE(f.rt().signal("r", "go", std::string{}));
  auto out = f.rt().wait("r", 20s);
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  CHECK(server.requests() == 2);
  CHECK(f.rt().stats().steps_replayed >= 1);
  auto after = f.rt().usage("r");
  REQUIRE(after);
  REQUIRE(after->steps.size() == 2);
  CHECK(after->steps[0].name == "first");
  CHECK(after->steps[1].name == "second");
  CHECK(after->prompt_tokens
        == after->steps[0].usage.prompt_tokens + after->steps[1].usage.prompt_tokens);
  CHECK(after->steps[0].usage.prompt_tokens == before->prompt_tokens);
  CHECK(after->cost_usd == Approx(after->steps[0].usage.cost_usd
                                  + after->steps[1].usage.cost_usd));
  CHECK(after->steps[0].usage.model == "sim");
}

SCENARIO("ctx.llm without a configured model fails naming run and step", "[llm]") {
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("ask", "lonely", std::string{"anyone?"}));
  auto out = f.rt().wait("lonely", 20s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("run lonely step 'ask'")
                           && Catch::Contains("no model configured")
                           && Catch::Contains("runtime_options::llm"));
}

SCENARIO("ctx.http journals the response and sends an idempotency key", "[http]") {
  net::fake_openai_server server;
  server.push({201, {{"X-Answer", "42"}}, "created"});
  runtime_fixture f{workflows};
  auto url = server.base_url() + "/things";
  REQUIRE(f.rt().start("fetch", "h", url));
  auto out = f.rt().wait("h", 20s);
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  CHECK(out->value<std::string>() == "201 created");
  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].body == "payload");
  auto key = net::find_header(got[0].headers, "Idempotency-Key");
  REQUIRE(key);
  CHECK(*key == "h/0");
  f.reopen();  // finished: nothing is sent again
  CHECK(server.requests() == 1);
  auto usage = f.rt().usage("h");
  REQUIRE(usage);
  CHECK(usage->steps.empty());
}

SCENARIO("ctx.http retries a 503 and fails fatally on a 404", "[http]") {
  net::fake_openai_server server;
  server.push({503, {}, "unavailable"});
  server.push({200, {}, "ok"});
  server.push({404, {}, "no such thing"});
  runtime_fixture f{workflows};
  auto url = server.base_url() + "/things";
  REQUIRE(f.rt().start("fetch", "h1", url));
  auto out = f.rt().wait("h1", 20s);
  REQUIRE(out);
  CHECK(out->value<std::string>() == "200 ok");
  auto failed = failures(f.rt(), "h1");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].cls == failure_class::retryable);
  CHECK(failed[0].http_status == 503);
  auto got = server.received();
  REQUIRE(got.size() == 2);
  CHECK(net::find_header(got[0].headers, "Idempotency-Key")
        == net::find_header(got[1].headers, "Idempotency-Key"));

  REQUIRE(f.rt().start("fetch", "h2", url));
  auto second = f.rt().wait("h2", 20s);
  REQUIRE(second);
  CHECK(second->status == run_status::failed);
  CHECK_THAT(second->error, Catch::Contains("fatal") && Catch::Contains("run h2 step 'fetch'"));
  CHECK(server.requests() == 3);
}
