// The `sim` model: deterministic for a seed and request, faults injected at
// the configured rates, each fault surfacing as the failure class a real
// endpoint's would, plausible answers and valid structured output.
#include "net_test_support.hpp"

#include "endure/net/openai_codec.hpp"
#include "endure/net/sim_engine.hpp"
#include "endure/net/sim_model.hpp"

#include <nlohmann/json.hpp>

#include <map>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

chat_request ask(const std::string& text) {
  chat_request r;
  r.messages = {chat_message::user(text)};
  return r;
}

result<chat_response> chat(sim_model& model, const chat_request& req) {
  return await_result<chat_response>([&](auto done) { model.chat(req, done); });
}

llm_config sim_config(sim_options sim) {
  llm_config c;
  c.sim = sim;
  c.request_timeout = 10s;
  return c;
}

} // namespace

SCENARIO("the sim is deterministic for a seed and a request", "[net][sim]") {
  sim_options o;
  o.seed = 42;
  sim_model a(sim_config(o)), b(sim_config(o));
  auto req = ask("Plan a migration of the billing database to PostgreSQL");
  auto ra = chat(a, req), rb = chat(b, req);
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->content == rb->content);
  CHECK(ra->id == rb->id);
  CHECK(ra->model == "sim");
  CHECK(a.name() == "sim");
  CHECK_THAT(ra->content, Catch::Contains("billing") || Catch::Contains("migration") ||
                            Catch::Contains("database") || Catch::Contains("postgresql"));
  CHECK(ra->usage.prompt_tokens > 0);
  CHECK(ra->usage.completion_tokens > 0);

  o.seed = 43;
  sim_model c(sim_config(o));
  auto other = chat(c, ask("Summarise the quarterly report for the board"));
  auto same_seed = chat(a, ask("Summarise the quarterly report for the board"));
  REQUIRE(other);
  REQUIRE(same_seed);
  CHECK(other->id != same_seed->id);
}

SCENARIO("the sim injects each fault kind at its configured rate", "[net][sim]") {
  sim_options o;
  o.seed = 7;
  o.rate_limit_rate = 0.10;
  o.server_error_rate = 0.20;
  o.timeout_rate = 0.05;
  o.malformed_rate = 0.15;
  constexpr int n = 4000;
  std::map<sim_fault, int> counts;
  for (int i = 0; i < n; ++i) {
    auto body = encode_chat_request(ask("question number " + std::to_string(i)), "sim");
    REQUIRE(body);
    counts[simulate_chat(o, *body, 0).fault]++;
  }
  CHECK(counts[sim_fault::rate_limited] / double(n) == Approx(0.10).margin(0.02));
  CHECK(counts[sim_fault::server_error] / double(n) == Approx(0.20).margin(0.02));
  CHECK(counts[sim_fault::timeout] / double(n) == Approx(0.05).margin(0.02));
  CHECK(counts[sim_fault::malformed] / double(n) == Approx(0.15).margin(0.02));
  CHECK(counts[sim_fault::none] / double(n) == Approx(0.50).margin(0.02));

  AND_THEN("the same call draws the same fault, and a retry draws anew") {
    auto body = *encode_chat_request(ask("question number 1"), "sim");
    CHECK(simulate_chat(o, body, 0).fault == simulate_chat(o, body, 0).fault);
    int differing = 0;
    for (int i = 0; i < 200; ++i) {
      auto b = *encode_chat_request(ask("retry " + std::to_string(i)), "sim");
      differing += simulate_chat(o, b, 0).fault != simulate_chat(o, b, 1).fault;
    }
    CHECK(differing > 40);
  }
}

SCENARIO("each sim fault surfaces as a real endpoint's failure would", "[net][sim]") {
  auto only = [](double sim_options::*rate) {
    sim_options o;
    o.*rate = 1.0;
    o.retry_after = 1500ms;
    return o;
  };
  GIVEN("429") {
    sim_model m(sim_config(only(&sim_options::rate_limit_rate)));
    auto r = chat(m, ask("hi there friend"));
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == failure_class::rate_limited);
    CHECK(r.error().retry_after == std::optional{1500ms});
    CHECK(r.error().http_status == 429);
    CHECK(m.calls(sim_fault::rate_limited) == 1);
  }
  GIVEN("500") {
    sim_model m(sim_config(only(&sim_options::server_error_rate)));
    auto r = chat(m, ask("hi there friend"));
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == failure_class::retryable);
    CHECK(r.error().http_status == 500);
  }
  GIVEN("a timeout") {
    sim_model m(sim_config(only(&sim_options::timeout_rate)));
    auto req = ask("hi there friend");
    req.timeout = 50ms;
    auto started = std::chrono::steady_clock::now();
    auto r = chat(m, req);
    REQUIRE_FALSE(r);
    CHECK(std::chrono::steady_clock::now() - started >= 50ms);
    CHECK(r.error().cls == failure_class::retryable);
    CHECK_THAT(r.error().message, Catch::Contains("timed out after 50 ms"));
  }
  GIVEN("a malformed body") {
    sim_model m(sim_config(only(&sim_options::malformed_rate)));
    auto r = chat(m, ask("hi there friend"));
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == failure_class::retryable);
    CHECK_THAT(r.error().message, Catch::Contains("'{\"choices\""));
  }
  GIVEN("a prompt above the context window") {
    sim_options o;
    o.context_window_tokens = 100;
    sim_model m(sim_config(o));
    auto r = chat(m, ask(std::string(1000, 'x')));
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == failure_class::context_length_exceeded);
    CHECK(m.calls(sim_fault::context_length) == 1);
  }
}

SCENARIO("a retried sim call eventually succeeds", "[net][sim]") {
  sim_options o;
  o.server_error_rate = 0.5;
  sim_model m(sim_config(o));
  auto req = ask("flaky call that should recover");
  bool ok = false;
  for (std::uint32_t attempt = 0; attempt < 20 && !ok; ++attempt) {
    req.attempt = attempt;
    ok = chat(m, req).has_value();
  }
  CHECK(ok);
}

SCENARIO("the sim's latency is applied and structured output is valid", "[net][sim]") {
  sim_options o;
  o.latency = 40ms;
  sim_model m(sim_config(o));
  auto req = ask("Extract the order: two large pizzas to 12 Baker Street");
  req.response_format = json_schema_format{
    "order", R"({"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"quantity":{"type":"integer","minimum":1,"maximum":9}}}},"address":{"type":"string"},"express":{"type":"boolean"}},"required":["items","address","express"]})"};
  req.request_confidence = true;
  auto started = std::chrono::steady_clock::now();
  auto r = chat(m, req);
  CHECK(std::chrono::steady_clock::now() - started >= 40ms);
  REQUIRE(r);
  auto j = json::parse(r->content);
  REQUIRE(j["items"].is_array());
  CHECK(j["items"][0]["name"].is_string());
  CHECK(j["items"][0]["quantity"].get<int>() >= 1);
  CHECK(j["address"].is_string());
  CHECK(j["express"].is_boolean());
  REQUIRE(r->confidence);
  CHECK(*r->confidence >= 0.55);
  CHECK(*r->confidence <= 0.98);
}

SCENARIO("sim embeddings are deterministic unit vectors", "[net][sim]") {
  sim_model m;
  embedding_request req;
  req.inputs = {"durable agents survive crashes", "durable agents survive restarts", "banana bread"};
  auto a = await_result<embedding_response>([&](auto done) { m.embed(req, done); });
  auto b = await_result<embedding_response>([&](auto done) { m.embed(req, done); });
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->vectors == b->vectors);
  CHECK(a->model == "sim");
  CHECK(a->vectors.size() == 3);
}

SCENARIO("make_llm_backend picks the sim when no endpoint is configured", "[net][sim]") {
  auto backend = make_llm_backend({});
  CHECK(backend->name() == "sim");
  auto r = await_result<chat_response>([&](auto done) { backend->chat(ask("hello world"), done); });
  REQUIRE(r);
  CHECK(r->model == "sim");
}

SCENARIO("destroying the sim answers calls still waiting", "[net][sim]") {
  auto promise = std::make_shared<std::promise<result<chat_response>>>();
  auto future = promise->get_future();
  {
    sim_options o;
    o.latency = 60s;
    llm_config c = sim_config(o);
    c.request_timeout = 120s;
    sim_model m(c);
    m.chat(ask("slow"), [promise](result<chat_response> r) { promise->set_value(std::move(r)); });
  }
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  auto r = future.get();
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("shut down"));
}
