// Stage 4 of `endure demo` (demo_escalation.hpp).
#include "endure/cli/demo_escalation.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/escalation/escalation_options.hpp"
#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/endure.hpp"
#include "endure/cli/demo_data_dir.hpp"
#include "endure/net/llm_backend.hpp"

namespace endure::cli {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// A keyword and, when the sim reads it wrong, what readers really want.
struct keyword_case {
  const char* keyword;
  const char* truth;  ///< nullptr: the agent's reading is right
};

// Round 1 and a second round of similar keywords, plus one name the matrix
// has not met ("swift"). The sim answers every one with confidence 0.9; it
// is wrong about the names a language shares with something else.
const keyword_case first_round[] = {
  {"kubernetes operators", nullptr},
  {"kafka", "Apache Kafka, the event streaming platform (not the writer)"},
  {"postgres indexes", nullptr},
  {"python", "the Python programming language (not the snake)"},
  {"grpc streaming", nullptr},
  {"rust", "the Rust programming language (not corrosion)"},
  {"terraform modules", nullptr},
  {"redis caching", nullptr},
};
const keyword_case second_round[] = {
  {"kubernetes operators tutorial", nullptr}, {"postgres indexes explained", nullptr},
  {"swift", "the Swift programming language (not the bird)"},
  {"terraform modules guide", nullptr},
  {"kafka streams", nullptr},                 {"python asyncio", nullptr},
  {"redis caching patterns", nullptr},        {"rust borrow checker", nullptr},
};

task<agent::agent_answer> read_intent(context& ctx, std::string keyword) {
  agent::agent_spec spec;
  spec.name = "intent";
  spec.system_prompt = "Say in one line which search intent readers of this keyword have. "
                       "[sim: no tools] [sim: confidence 0.9]";
  spec.tools = {"ask_human"};  // offered, never called: the sim answers at once
  spec.escalation = agent::escalation_spec{"intent", 0};
  co_return co_await agent::run_agent(ctx, spec, std::move(keyword));
}

std::string run_id_of(int round, std::size_t i) {
  return "intent-" + std::to_string(round) + "-" + std::to_string(i);
}

/// One keyword's run: started, its question answered by the reviewer,
/// awaited (bounded: a run asks at most once, and the sim answers at once).
expected<agent::agent_answer> run_keyword(runtime& rt, const std::string& id,
                                          const keyword_case& c, std::size_t& corrected,
                                          const std::function<std::string()>& stamp) {
  if (auto ok = rt.start("intent_agent", id, std::string{c.keyword}); !ok)
    return std::move(ok).error();
  std::string reply = c.truth ? c.truth : "accept";
  auto print = [&](const std::string& reason) {
    std::printf("%s   escalated '%s': %s\n", stamp().c_str(), c.keyword, reason.c_str());
    if (c.truth)
      std::printf("%s   reviewer corrects it: %s\n", stamp().c_str(), c.truth);
    else
      std::printf("%s   reviewer accepts it\n", stamp().c_str());
  };
  auto review = [&]() -> expected<void> {
    auto answered = answer_questions(rt, id, reply, print);
    if (!answered)
      return std::move(answered).error();
    if (c.truth)
      corrected += *answered;
    return {};
  };
  return await_reviewed(rt, id, review, 20s);
}

/// One round: every keyword's run, the reviewer answering until all ended.
expected<std::pair<std::size_t, std::size_t>> run_round(
  runtime& rt, int round, std::span<const keyword_case> cases,
  const std::function<std::string()>& stamp) {
  std::size_t escalated = 0, corrected = 0;
  // One keyword after the other, so each is scored against all before it:
  // the same output on every run of the demo.
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto answer = run_keyword(rt, run_id_of(round, i), cases[i], corrected, stamp);
    if (!answer)
      return std::move(answer).error();
    escalated += answer->escalated;
  }
  return std::pair{escalated, corrected};
}

} // namespace

expected<std::size_t> answer_questions(runtime& rt, const std::string& run_id,
                                       const std::string& reply,
                                       const std::function<void(const std::string&)>& on_question) {
  // Request ids begin with their run's id (the raising step's key).
  auto page = rt.store().rows(side_table::requests, run_id, "", 1000);
  if (!page)
    return make_error(page.error().code, "reading the questions of run " + run_id + ": "
                                           + page.error().message);
  std::size_t answered = 0;
  for (auto& row : page->rows) {
    auto r = gateway::from_record(row.rec, row.key);
    if (!r || r->run_id != run_id || r->status != gateway::request_status::pending)
      continue;
    auto why = escalation::assessment_from_json(r->arguments.value("context", ""));
    on_question(why ? why->reason : "(no breakdown)");
    auto decided = rt.decide(r->id, "ann", "respond", json{{"text", reply}}.dump(), "demo");
    if (!decided)
      return make_error(decided.error().code, "the reviewer's answer to question " + r->id
                                                + " of run " + run_id + " was refused: "
                                                + decided.error().message);
    ++answered;
  }
  return answered;
}

expected<agent::agent_answer> await_reviewed(runtime& rt, const std::string& run_id,
                                             const std::function<expected<void>()>& review,
                                             std::chrono::milliseconds limit) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto out = rt.wait(run_id, 20ms);
    if (out && out->status == run_status::completed)
      return out->value<agent::agent_answer>();
    if (out)
      return make_error(errc::invalid_state, "run " + run_id + " "
                                               + std::string{to_string(out->status)} + ": "
                                               + out->error);
    if (out.error().code != errc::timeout)
      return make_error(out.error().code, "waiting for run " + run_id + ": "
                                            + out.error().message);
    if (auto ok = review(); !ok)
      return std::move(ok).error();
    if (std::chrono::steady_clock::now() >= give_up)
      return make_error(errc::timeout, "run " + run_id + " did not end within "
                                         + std::to_string(limit.count()) + " ms");
  }
}

expected<escalation_stage_result> run_escalation_stage(const command_env& env,
                                                       const std::string& data_dir,
                                                       const std::function<std::string()>& stamp) {
  if (auto cleared = clear_demo_dir(data_dir); !cleared)
    return std::move(cleared).error();
  command_env stage = env;
  stage.globals.data_dir = data_dir;
  stage.workflows = workflow_registry{};
  stage.workflows.add("intent_agent", &read_intent);
  runtime_options opts;
  opts.tools = std::make_shared<agent::tool_registry>();
  opts.llm = net::make_llm_backend(net::llm_config{});
  auto matrix = std::make_shared<escalation::escalation_options>();
  matrix->matrix.exploration = 0;  // the demo shows the score's own choices
  matrix->matrix.threshold.value = 0.45;
  opts.escalation = matrix;
  escalation_stage_result result;
  result.per_round = std::size(first_round);
  std::optional<error> failed;
  int code = with_runtime(stage, std::move(opts), [&](runtime& rt) {
    std::printf("%s round 1: %zu keywords the matrix has never seen\n", stamp().c_str(),
                std::size(first_round));
    auto one = run_round(rt, 1, first_round, stamp);
    if (!one) {
      failed = one.error();
      return 1;
    }
    std::tie(result.first_escalated, result.first_corrected) = *one;
    std::printf("%s round 2: %zu similar keywords\n", stamp().c_str(), std::size(second_round));
    auto two = run_round(rt, 2, second_round, stamp);
    if (!two) {
      failed = two.error();
      return 1;
    }
    std::tie(result.second_escalated, result.second_corrected) = *two;
    return 0;
  });
  if (failed)
    return *failed;
  if (code != 0)
    return make_error(errc::invalid_state, "the escalation stage's runtime did not open");
  return result;
}

} // namespace endure::cli
