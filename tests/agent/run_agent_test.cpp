// run_agent: the tool-calling loop over the offline sim model. Every model
// turn and tool call is a journaled step: the loop ends with an answer after
// each tool ran once, what the model gets wrong goes back to it as a tool
// error it corrects, max_turns ends a loop that never answers, and a copy
// of the data directory taken mid-turn (what SIGKILL leaves) resumes
// without calling the model or a finished tool again.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>

#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"
#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_call.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::atomic<int> search_calls{0}, read_calls{0}, model_calls{0};
step_gate gate;
bool hold_read = false;

/// The sim, counting the calls that reach it.
class counting_model : public net::llm_backend {
public:
  counting_model() : sim_(net::make_llm_backend({})) {}
  const std::string& name() const noexcept override { return sim_->name(); }
  void chat(net::chat_request request, chat_callback done) override {
    ++model_calls;
    sim_->chat(std::move(request), std::move(done));
  }
  void embed(net::embedding_request request, embed_callback done) override {
    sim_->embed(std::move(request), std::move(done));
  }

private:
  std::unique_ptr<net::llm_backend> sim_;
};

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json query = {{"type", "object"},
                {"properties", {{"query", {{"type", "string"}, {"minLength", 1}}}}},
                {"required", {"query"}}};
  REQUIRE(r->add({"search", "Searches the web.", query, [](const json& args) {
                    ++search_calls;
                    return json{{"hits", 3}, {"query", args["query"]}};
                  }}));
  json url = {{"type", "object"},
              {"properties", {{"url", {{"type", "string"}}}}},
              {"required", {"url"}}};
  REQUIRE(r->add({"read", "Reads a page.", url, [](const json&) {
                    ++read_calls;
                    if (hold_read)
                      gate.pass("read");
                    return json{{"words", 1200}};
                  }}));
  return r;
}

task<agent::agent_answer> researcher(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.name = "researcher";
  spec.system_prompt = "You research a topic with the tools. [sim: call search, read]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> short_of_turns(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.max_turns = 2;  // search, read, then it would answer on turn 3
  spec.system_prompt = "[sim: call search, read]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> corrected(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.system_prompt = "[sim: call search; bad_args search]";
  spec.tools = {"search"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

/// Names search before read (not their sorted order): the model is
/// offered them in that order.
task<agent::agent_answer> in_my_order(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"search", "read"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

/// Names a tool nobody registered.
task<agent::agent_answer> misnamed(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.name = "scout";
  spec.tools = {"search", "serach"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

/// The researcher on a context budget given after '|' in its input.
task<agent::agent_answer> on_a_budget(context& ctx, std::string input) {
  agent::agent_spec spec;
  spec.system_prompt = "You research a topic with the tools. [sim: call search, read]";
  spec.context_budget_tokens = std::stoul(input.substr(input.find('|') + 1));
  co_return co_await agent::run_agent(ctx, spec, input.substr(0, input.find('|')));
}

void workflows(workflow_registry& r) {
  r.add("researcher", &researcher);
  r.add("on_a_budget", &on_a_budget);
  r.add("in_my_order", &in_my_order);
  r.add("misnamed", &misnamed);
  r.add("short_of_turns", &short_of_turns);
  r.add("corrected", &corrected);
}

void with_agent(runtime_options& o) {
  o.tools = tools();
  o.llm = std::make_shared<counting_model>();
}

void reset() {
  search_calls = read_calls = model_calls = 0;
  hold_read = false;
  gate.reset();
}

} // namespace

SCENARIO("an agent calls each tool once through durable steps and answers", "[agent][loop]") {
  reset();
  runtime_fixture f{workflows, with_agent};
  REQUIRE(f.rt().start("researcher", "a1", std::string{"durable execution"}));
  auto out = f.ended("a1", 10s);
  REQUIRE(out.status == run_status::completed);
  auto answer = out.value<agent::agent_answer>();
  CHECK(answer.turns == 3);
  CHECK(answer.tool_calls == 2);
  CHECK(answer.tool_errors == 0);
  CHECK(answer.tools_called == std::vector<std::string>{"search", "read"});
  CHECK_THAT(answer.text, Catch::Contains("search") && Catch::Contains("read"));
  REQUIRE(answer.confidence.has_value());
  CHECK(*answer.confidence >= 0.0);
  CHECK(search_calls == 1);
  CHECK(read_calls == 1);
  CHECK(model_calls == 3);
}

SCENARIO("arguments that break the schema go back to the model, which corrects them",
         "[agent][loop]") {
  reset();
  runtime_fixture f{workflows, with_agent};
  REQUIRE(f.rt().start("corrected", "a2", std::string{"durable execution"}));
  auto answer = f.ended("a2", 10s).value<agent::agent_answer>();
  CHECK(answer.tool_errors == 1);  // the bad call, refused before it ran
  CHECK(answer.tool_calls == 1);   // the corrected one
  CHECK(search_calls == 1);
}

SCENARIO("an agent that reaches max_turns fails its run naming the last tool",
         "[agent][loop]") {
  reset();
  runtime_fixture f{workflows, with_agent};
  REQUIRE(f.rt().start("short_of_turns", "a3", std::string{"durable execution"}));
  auto out = f.ended("a3", 10s);
  CHECK(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("run a3") && Catch::Contains("2 turns")
                          && Catch::Contains("last tool called: read"));
}

SCENARIO("a process killed in the middle of an agent turn resumes without calling the model "
         "or a finished tool again", "[agent][loop][crash]") {
  namespace fs = std::filesystem;
  reset();
  hold_read = true;
  temp_dir snapshot;
  {
    runtime_fixture f{workflows, with_agent};
    step_gate::opener open_at_exit{gate};
    REQUIRE(f.rt().start("researcher", "a4", std::string{"durable execution"}));
    REQUIRE(gate.await_waiting("read"));  // turn 2's tool call is running
    for (auto& e : fs::directory_iterator(f.dir()))  // what SIGKILL would leave
      fs::copy(e.path(), snapshot.path() + "/" + e.path().filename().string());
    CHECK(model_calls == 2);
    CHECK(search_calls == 1);
  }
  // Count only what the process started on the copy does.
  model_calls = search_calls = read_calls = 0;
  hold_read = false;
  runtime_fixture next{workflows, with_agent};
  next.close();
  for (auto& e : fs::directory_iterator(snapshot.path()))
    fs::copy(e.path(), next.dir() + "/" + e.path().filename().string(),
             fs::copy_options::overwrite_existing);
  next.open();
  auto out = next.ended("a4", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<agent::agent_answer>().tool_calls == 2);
  CHECK(model_calls == 1);   // turns 1 and 2 replayed; only the final turn is new
  CHECK(search_calls == 0);  // finished before the kill: replayed
  CHECK(read_calls == 1);    // in flight at the kill: runs again
}

SCENARIO("the tools an agent names are offered in its order, and a name nobody registered "
         "fails the run", "[agent][loop]") {
  reset();
  runtime_fixture f{workflows, with_agent};
  WHEN("the spec names search before read") {
    REQUIRE(f.rt().start("in_my_order", "o1", std::string{"durable execution"}));
    auto out = f.ended("o1", 10s);
    REQUIRE(out.status == run_status::completed);
    // The sim calls what it is offered in the order offered.
    CHECK(out.value<agent::agent_answer>().tools_called
          == std::vector<std::string>{"search", "read"});
  }
  WHEN("the spec names a tool that is not registered") {
    REQUIRE(f.rt().start("misnamed", "o2", std::string{"durable execution"}));
    auto out = f.ended("o2", 10s);
    CHECK(out.status == run_status::failed);
    CHECK_THAT(out.error, Catch::Contains("run o2") && Catch::Contains("agent 'scout'")
                            && Catch::Contains("'serach'") && Catch::Contains("not registered"));
    CHECK(model_calls == 0);  // refused before the model is asked anything
  }
}

SCENARIO("a context budget stops the loop before a turn that would exceed it",
         "[agent][loop][budget]") {
  reset();
  runtime_fixture f{workflows, with_agent};
  GIVEN("the prompt sizes of an unbudgeted run") {
    REQUIRE(f.rt().start("on_a_budget", "b0", std::string{"durable execution|100000"}));
    auto full = f.ended("b0", 10s).value<agent::agent_answer>();
    REQUIRE(full.turns == 3);
    REQUIRE_FALSE(full.out_of_context);
    auto last_turn = full.context_tokens;  // the largest: the conversation only grows
    WHEN("the budget admits all but the last turn") {
      int before = model_calls;
      auto input = "durable execution|" + std::to_string(last_turn - 1);
      REQUIRE(f.rt().start("on_a_budget", "b1", input));
      auto out = f.ended("b1", 10s);
      THEN("the run completes out of context after two turns: the third is never sent") {
        REQUIRE(out.status == run_status::completed);
        auto answer = out.value<agent::agent_answer>();
        CHECK(answer.out_of_context);
        CHECK(answer.turns == 2);
        CHECK(answer.tool_calls == 2);
        CHECK(answer.context_tokens == last_turn);
        CHECK(model_calls - before == 2);
        CHECK_FALSE(answer.text.empty());  // the model's last note
      }
    }
    WHEN("the budget admits the last turn exactly") {
      REQUIRE(f.rt().start("on_a_budget", "b2", "durable execution|" + std::to_string(last_turn)));
      THEN("it answers as without a budget") {
        auto answer = f.ended("b2", 10s).value<agent::agent_answer>();
        CHECK_FALSE(answer.out_of_context);
        CHECK(answer.turns == 3);
      }
    }
  }
}
