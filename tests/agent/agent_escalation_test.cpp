// run_agent with the escalation matrix (agent_spec::escalation), over the
// sim, a real runtime, LMDB and the human gateway: an escalated tool call
// waits for a person who approves or rejects it, an escalated final answer
// is accepted or replaced by the person's words, each answer goes back to
// the actor as an outcome, calls the policy gates anyway are not scored,
// and grey-zone samples are journaled model calls.
#include <catch2/catch.hpp>

#include "agent/agent_gates_support.hpp"
#include "endure/actors/escalation/escalation_options.hpp"
#include "endure/actors/escalation/matrix_json.hpp"

namespace {

task<agent::agent_answer> escalated_search(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"search"};
  spec.system_prompt = "You research. [sim: call search] [sim: confidence 0.9]";
  spec.escalation = agent::escalation_spec{"research", 3};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> escalated_publish(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"publish"};
  spec.system_prompt = "You publish. [sim: call publish] [sim: confidence 0.9]";
  spec.escalation = agent::escalation_spec{"research", 0};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> embedded_search(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"search"};
  spec.system_prompt = "You research. [sim: call search] [sim: confidence 0.9]";
  spec.escalation = agent::escalation_spec{.task_type = "research", .samples = 0,
                                           .model_embeddings = true};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

void escalation_workflows(workflow_registry& r) {
  r.add("embedded_search", &embedded_search);
  r.add("escalated_search", &escalated_search);
  r.add("escalated_publish", &escalated_publish);
}

/// The sim and tools of `gated`, with an escalation matrix at a fixed
/// threshold and no exploration, so what escalates is known.
std::function<void(runtime_options&)> matrix_at(double threshold, double grey_zone = 0) {
  return [=](runtime_options& o) {
    gated(o);
    auto e = std::make_shared<escalation::escalation_options>();
    e->matrix.exploration = 0;
    e->matrix.grey_zone = grey_zone;
    e->matrix.threshold.value = threshold;
    o.escalation = e;
  };
}

/// Answers run `run`'s next pending question with `text`.
void answer_next(runtime_fixture& f, const std::string& run, const std::string& text) {
  REQUIRE(eventually([&] { return pending_count(f, run) == 1; }));
  for (auto& r : requests_of(f, run))
    if (r.status == gateway::request_status::pending) {
      REQUIRE(r.kind == gateway::request_kind::question);
      REQUIRE(f.rt().decide(r.id, "ann", "respond", json{{"text", text}}.dump()));
      return;
    }
}

std::size_t outcomes_in(runtime_fixture& f) {
  auto n = f.rt().store().count_rows(side_table::escalation_outcomes, "");
  REQUIRE(n);
  return *n;
}

} // namespace

SCENARIO("an escalated call waits for a person, and an escalated answer is theirs to correct",
         "[agent][escalation]") {
  fresh();
  runtime_fixture f{escalation_workflows, matrix_at(0)};
  REQUIRE(f.rt().start("escalated_search", "e1", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "e1") == 1; }));
  auto question = requests_of(f, "e1").at(0);
  CHECK_THAT(question.arguments["question"].get<std::string>(),
             Catch::Contains("wants to call search") && Catch::Contains("Why you are asked: score"));
  CHECK(question.arguments["choices"] == json{"approve", "reject"});
  auto breakdown = escalation::assessment_from_json(question.arguments["context"].get<std::string>());
  REQUIRE(breakdown);
  CHECK(breakdown->decision == escalation::decision::escalate);
  CHECK(breakdown->features.novelty == 1);
  CHECK(searched == 0);  // nothing runs before the person answers
  answer_next(f, "e1", "approve");
  answer_next(f, "e1", "Durable agents keep a journal.");  // the final answer, rewritten
  auto out = f.ended("e1", 10s);
  REQUIRE(out.status == run_status::completed);
  auto answer = out.value<agent::agent_answer>();
  CHECK(searched == 1);
  CHECK(answer.text == "Durable agents keep a journal.");
  CHECK(answer.escalated == 2);
  CHECK(answer.corrected == 1);
  CHECK(answer.questions == 0);
  CHECK(outcomes_in(f) == 2);
  auto steps = steps_of(f, "e1");
  CHECK(count_of(steps, "escalate:agent/turn 1/tool:search") == 1);
  CHECK(count_of(steps, "outcome:agent/turn 1/tool:search") == 1);
  CHECK(count_of(steps, "escalate:agent/turn 2/answer") == 1);
  CHECK(count_of(steps, "outcome:agent/turn 2/answer") == 1);
  CHECK(index_of(steps, "outcome:agent/turn 1/tool:search") < index_of(steps, "tool:search"));
}

SCENARIO("a call the person rejects does not run, and the model reads why",
         "[agent][escalation]") {
  fresh();
  runtime_fixture f{escalation_workflows, matrix_at(0)};
  REQUIRE(f.rt().start("escalated_search", "e2", std::string{"durable agents"}));
  answer_next(f, "e2", "reject");
  answer_next(f, "e2", "accept");
  auto out = f.ended("e2", 10s);
  REQUIRE(out.status == run_status::completed);
  auto answer = out.value<agent::agent_answer>();
  CHECK(searched == 0);
  CHECK(answer.rejected == 1);
  CHECK(answer.corrected == 1);
  CHECK(answer.escalated == 2);
  auto second = model->requests().at(1);
  auto result = json::parse(second.messages.back().content);
  CHECK(result["error"] == "rejected");
  CHECK(result["tool"] == "search");
  CHECK(outcomes_in(f) == 2);
}

SCENARIO("nothing is escalated under a threshold no score reaches", "[agent][escalation]") {
  fresh();
  runtime_fixture f{escalation_workflows, matrix_at(1)};
  REQUIRE(f.rt().start("escalated_search", "e3", std::string{"durable agents"}));
  auto out = f.ended("e3", 10s);
  REQUIRE(out.status == run_status::completed);
  auto answer = out.value<agent::agent_answer>();
  CHECK(searched == 1);
  CHECK(answer.escalated == 0);
  CHECK(requests_of(f, "e3").empty());
  CHECK(count_of(steps_of(f, "e3"), "escalate:agent/turn 2/answer") == 1);
}

SCENARIO("a call the policy gates is not scored: the person is asked once",
         "[agent][escalation]") {
  fresh();
  runtime_fixture f{escalation_workflows, matrix_at(0)};
  REQUIRE(f.rt().start("escalated_publish", "e4", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "e4") == 1; }));
  auto gate = requests_of(f, "e4").at(0);
  CHECK(gate.kind == gateway::request_kind::approval);
  CHECK(gate.tool == "publish");
  REQUIRE(f.rt().decide(gate.id, "ann", "approve"));
  answer_next(f, "e4", "accept");  // the final answer is still scored
  auto out = f.ended("e4", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(published == 1);
  auto steps = steps_of(f, "e4");
  CHECK(count_of(steps, "escalate:agent/turn 1/tool:publish") == 0);
  CHECK(count_of(steps, "escalate:agent/turn 2/answer") == 1);
}

SCENARIO("in the grey zone the turn is sampled, each sample a journaled model call",
         "[agent][escalation]") {
  fresh();
  runtime_fixture f{escalation_workflows, matrix_at(1, 1.0)};  // every score is grey
  REQUIRE(f.rt().start("escalated_search", "e5", std::string{"durable agents"}));
  auto out = f.ended("e5", 10s);
  REQUIRE(out.status == run_status::completed);
  auto steps = steps_of(f, "e5");
  for (auto* s : {"escalate:agent/turn 1/tool:search/sample 1",
                  "escalate:agent/turn 1/tool:search/sample 3",
                  "escalate:agent/turn 1/tool:search/with samples"})
    CHECK(count_of(steps, s) == 1);
  // 2 turns + 3 samples for each of the two proposals.
  auto requests = model->requests();
  CHECK(requests.size() == 8);
  CHECK(requests.at(1).seed == 1);
  CHECK(requests.at(3).seed == 3);
}

SCENARIO("turning the policy on under a live escalated run does not change its steps",
         "[agent][escalation]") {
  // The policy gate is a journaled step so that a policy edited between a
  // run's first execution and its replay cannot change the step sequence;
  // whether the matrix scores a call must follow that journaled answer,
  // not the policy of the process that replays.
  fresh();
  auto policy_on = std::make_shared<bool>(false);
  runtime_fixture f{escalation_workflows, [policy_on](runtime_options& o) {
                      matrix_at(0)(o);
                      if (!*policy_on)
                        o.policy = nullptr;
                    }};
  REQUIRE(f.rt().start("escalated_publish", "e6", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "e6") == 1; }));
  CHECK(requests_of(f, "e6").at(0).kind == gateway::request_kind::question);  // scored
  *policy_on = true;
  f.reopen();  // the run replays under a policy that gates publish
  answer_next(f, "e6", "approve");
  answer_next(f, "e6", "accept");
  auto out = f.ended("e6", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(published == 1);
  CHECK(out.value<agent::agent_answer>().escalated == 2);
}

SCENARIO("turning the policy off under a live gated run does not change its steps",
         "[agent][escalation]") {
  fresh();
  auto policy_on = std::make_shared<bool>(true);
  runtime_fixture f{escalation_workflows, [policy_on](runtime_options& o) {
                      matrix_at(0)(o);
                      if (!*policy_on)
                        o.policy = nullptr;
                    }};
  REQUIRE(f.rt().start("escalated_publish", "e7", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "e7") == 1; }));
  auto gate = requests_of(f, "e7").at(0);
  REQUIRE(gate.kind == gateway::request_kind::approval);
  *policy_on = false;
  f.reopen();  // the run replays without the policy: its gate step stands
  REQUIRE(f.rt().decide(gate.id, "ann", "approve"));
  answer_next(f, "e7", "accept");
  auto out = f.ended("e7", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(published == 1);
  CHECK(count_of(steps_of(f, "e7"), "escalate:agent/turn 1/tool:publish") == 0);
}

SCENARIO("inputs embedded by the model: a journaled step whose width must be the matrix's",
         "[agent][escalation]") {
  GIVEN("a matrix as wide as the sim's embeddings (64)") {
    fresh();
    runtime_fixture f{escalation_workflows, [](runtime_options& o) {
                        matrix_at(1)(o);
                        auto e = std::make_shared<escalation::escalation_options>(*o.escalation);
                        e->matrix.novelty.dim = 64;
                        o.escalation = e;
                      }};
    REQUIRE(f.rt().start("embedded_search", "m1", std::string{"durable agents"}));
    auto out = f.ended("m1", 10s);
    REQUIRE(out.status == run_status::completed);
    auto steps = steps_of(f, "m1");
    CHECK(count_of(steps, "escalate:agent/turn 1/tool:search/embedding") == 1);
    CHECK(count_of(steps, "escalate:agent/turn 2/answer/embedding") == 1);
    CHECK(searched == 1);
  }
  GIVEN("the default width (128)") {
    fresh();
    runtime_fixture f{escalation_workflows, matrix_at(1)};
    REQUIRE(f.rt().start("embedded_search", "m2", std::string{"durable agents"}));
    auto out = f.ended("m2", 10s);
    REQUIRE(out.status == run_status::failed);
    CHECK_THAT(out.error, Catch::Contains("64 numbers, the index holds 128"));
    CHECK(searched == 0);
  }
}
