// ctx.llm and ctx.http facing answers that are broken, late or never come:
// the step fails (schema violations, fatal, not retried) or is retried and
// completes with the server's next good answer, always in bounded time and
// with the run's outcome and journal naming run, step and what was wrong.
// A backend that never calls back or throws cannot hang or crash the run:
// the default attempt deadline and the step's guard end the attempt.
#include <catch2/catch.hpp>

#include <mutex>
#include <stdexcept>

#include "actors/runtime_fixture.hpp"
#include "endure/net/fake_openai_server.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const net::http_headers json_type{{"Content-Type", "application/json"}};

// Steps are bound to named locals before co_await (g++ 12, see README).
task<std::string> ask(context& ctx, std::string prompt) {
  net::chat_request req;
  req.messages = {net::chat_message::user(prompt)};
  auto op = ctx.llm("ask", std::move(req)).retry(fast(3));  // no attempt_timeout of its own
  auto answer = co_await std::move(op);
  co_return answer.content;
}

task<std::string> fetch(context& ctx, std::string url) {
  net::http_request req;
  req.url = url;
  req.timeout = 300ms;
  auto op = ctx.http("fetch", std::move(req)).retry(fast(3));
  auto response = co_await std::move(op);
  co_return response.body;
}

void workflows(workflow_registry& r) {
  r.add("ask", &ask);
  r.add("fetch", &fetch);
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

struct finished_run {
  run_outcome outcome;
  std::vector<step_failed_event> failed;
  std::chrono::milliseconds took;
};

/// Starts run "r" of `workflow` with `arg` and waits for its end.
finished_run run_to_end(runtime_fixture& f, const std::string& workflow, const std::string& arg) {
  auto started = clock_type::now();
  REQUIRE(f.rt().start(workflow, "r", arg));
  auto out = f.rt().wait("r", 30s);
  REQUIRE(out);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
  return {*out, failures(f.rt(), "r"), took};
}

/// A runtime whose model is `server`, each call bounded by `timeout`.
std::function<void(runtime_options&)> with_model(const net::fake_openai_server& server,
                                                 std::chrono::milliseconds timeout = 10s) {
  net::llm_config c;
  c.base_url = server.base_url();
  c.model = "fake";
  c.api_key_env = "";
  c.request_timeout = timeout;
  return [c](runtime_options& o) { o.llm = net::make_llm_backend(c); };
}

/// A backend of the user's own that misbehaves on the first call (never
/// answers, or throws) and answers the second.
struct unreliable_backend : net::llm_backend {
  enum class mode { silent, throwing };
  explicit unreliable_backend(mode m) : how(m) {}

  const std::string& name() const noexcept override { return name_; }
  std::chrono::milliseconds default_timeout() const noexcept override { return 300ms; }
  void chat(net::chat_request req, chat_callback done) override {
    std::lock_guard lock{m};
    ++calls;
    if (req.attempt == 0 && how == mode::throwing)
      throw std::runtime_error("the backend's own bug");
    if (req.attempt == 0) {
      held.push_back(std::move(done));  // never answered in time
      return;
    }
    net::chat_response r;
    r.content = "answer on attempt " + std::to_string(req.attempt);
    done(std::move(r));
  }
  void embed(net::embedding_request, embed_callback done) override {
    done(net::make_failure(failure_class::fatal, "no embeddings"));
  }

  /// Answers the held calls now, long after their attempt was abandoned.
  void answer_late() {
    std::vector<chat_callback> late;
    {
      std::lock_guard lock{m};
      late.swap(held);
    }
    for (auto& done : late) {
      net::chat_response r;
      r.content = "too late";
      done(std::move(r));
    }
  }

  mode how;
  std::string name_ = "unreliable";
  std::mutex m;
  int calls = 0;
  std::vector<chat_callback> held;
};

} // namespace

SCENARIO("an answer that breaks the schema fails the LLM step at once, naming run, step "
         "and field", "[llm][malformed]") {
  net::fake_openai_server server;
  server.push({200, json_type,
               R"({"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":42}}]})"});
  runtime_fixture f{workflows, with_model(server)};
  auto run = run_to_end(f, "ask", "a question");
  INFO("the run ended in " << run.took.count() << " ms");
  CHECK(run.outcome.status == run_status::failed);
  CHECK_THAT(run.outcome.error, Catch::Contains("step 'ask' failed (fatal)") &&
                                  Catch::Contains("run r step 'ask'") &&
                                  Catch::Contains("field 'choices[0].message.content'") &&
                                  Catch::Contains("expected a string"));
  CHECK(server.requests() == 1);  // fatal: not retried
  REQUIRE(run.failed.size() == 1);
  CHECK(run.failed[0].cls == failure_class::fatal);
  CHECK(run.failed[0].final);
  CHECK(run.took < 10s);
}

SCENARIO("an id of null, the answer that used to hang the step, completes it",
         "[llm][malformed]") {
  net::fake_openai_server server;
  server.push({200, json_type,
               R"({"id":null,"choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]})"});
  runtime_fixture f{workflows, with_model(server)};
  auto run = run_to_end(f, "ask", "a question");
  INFO("the run ended in " << run.took.count() << " ms");
  REQUIRE(run.outcome.status == run_status::completed);
  CHECK(run.outcome.value<std::string>() == "ok");
  CHECK(run.took < 10s);
}

SCENARIO("a cut-off answer is retried and the server's next good answer completes the step",
         "[llm][malformed]") {
  net::fake_openai_server server;
  server.push({200, json_type, R"({"id":"c1","choices":[{"index":0,"message":{"content":"a fi)"});
  runtime_fixture f{workflows, with_model(server)};
  auto run = run_to_end(f, "ask", "a question");
  INFO("the run ended in " << run.took.count() << " ms");
  REQUIRE(run.outcome.status == run_status::completed);
  CHECK(server.requests() == 2);
  REQUIRE(run.failed.size() == 1);
  CHECK(run.failed[0].cls == failure_class::retryable);
  CHECK_THAT(run.failed[0].message, Catch::Contains("run r step 'ask'") &&
                                      Catch::Contains("cut off"));
  CHECK(run.took < 10s);
}

SCENARIO("an answer that never comes is cut at the call's deadline and retried",
         "[llm][malformed]") {
  net::fake_openai_server server;
  net::scripted_response hang;
  hang.hang = true;
  server.push(hang);
  runtime_fixture f{workflows, with_model(server, 300ms)};
  auto run = run_to_end(f, "ask", "a question");
  INFO("the run ended in " << run.took.count() << " ms");
  REQUIRE(run.outcome.status == run_status::completed);
  REQUIRE(run.failed.size() == 1);
  CHECK(run.failed[0].cls == failure_class::retryable);
  CHECK_THAT(run.failed[0].message, Catch::Contains("timed out after 300 ms") &&
                                      Catch::Contains("waiting for the answer"));
  CHECK(run.took >= 300ms);
  CHECK(run.took < 10s);
}

SCENARIO("a backend that never calls back is abandoned at the default attempt deadline",
         "[llm][malformed]") {
  auto backend = std::make_shared<unreliable_backend>(unreliable_backend::mode::silent);
  runtime_fixture f{workflows, [backend](runtime_options& o) { o.llm = backend; }};
  struct release_held {  // no held callback may outlive the runtime
    std::shared_ptr<unreliable_backend> b;
    ~release_held() { b->answer_late(); }
  } release{backend};
  auto run = run_to_end(f, "ask", "a question");
  INFO("the run ended in " << run.took.count() << " ms");
  REQUIRE(run.outcome.status == run_status::completed);
  CHECK(run.outcome.value<std::string>() == "answer on attempt 1");
  REQUIRE(run.failed.size() == 1);
  CHECK(run.failed[0].cls == failure_class::retryable);
  // The backend's 300 ms deadline + 2 s: .retry(fast(3)) set no attempt_timeout.
  CHECK_THAT(run.failed[0].message, Catch::Contains("attempt 1 timed out after 2300 ms"));
  CHECK(run.took >= 2300ms);
  CHECK(run.took < 15s);
  AND_THEN("the abandoned call's late answer changes nothing") {
    backend->answer_late();
    auto again = f.rt().wait("r", 1s);
    REQUIRE(again);
    CHECK(again->value<std::string>() == "answer on attempt 1");
    CHECK(failures(f.rt(), "r").size() == 1);
  }
}

SCENARIO("a backend that throws fails the attempt with a classified failure, not a crash",
         "[llm][malformed]") {
  auto backend = std::make_shared<unreliable_backend>(unreliable_backend::mode::throwing);
  runtime_fixture f{workflows, [backend](runtime_options& o) { o.llm = backend; }};
  auto run = run_to_end(f, "ask", "a question");
  REQUIRE(run.outcome.status == run_status::completed);
  CHECK(run.outcome.value<std::string>() == "answer on attempt 1");
  REQUIRE(run.failed.size() == 1);
  CHECK(run.failed[0].cls == failure_class::retryable);
  CHECK_THAT(run.failed[0].message, Catch::Contains("run r step 'ask'") &&
                                      Catch::Contains("the backend's own bug"));
}

SCENARIO("an HTTP body that never ends is cut at the request's deadline and retried",
         "[http][malformed]") {
  net::fake_openai_server server;
  net::scripted_response drip{200, {}, "."};
  drip.stream = true;
  drip.chunk_interval = 20ms;
  server.push(drip);
  server.push({200, {}, "whole"});
  runtime_fixture f{workflows};
  auto run = run_to_end(f, "fetch", server.base_url() + "/things");
  INFO("the run ended in " << run.took.count() << " ms");
  REQUIRE(run.outcome.status == run_status::completed);
  CHECK(run.outcome.value<std::string>() == "whole");
  REQUIRE(run.failed.size() == 1);
  CHECK(run.failed[0].cls == failure_class::retryable);
  CHECK_THAT(run.failed[0].message, Catch::Contains("run r step 'fetch'") &&
                                      Catch::Contains("timed out after 300 ms") &&
                                      Catch::Contains("reading the answer's body"));
  CHECK(run.took < 10s);
}
