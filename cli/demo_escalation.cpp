// Stage 4 of `endure demo` (demo_escalation.hpp).
#include "endure/cli/demo_escalation.hpp"

#include <cstdio>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/escalation/escalation_options.hpp"
#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/endure.hpp"
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

/// The reviewer: answers every pending question of the stage's runs.
std::size_t review(runtime& rt, const std::map<std::string, const keyword_case*>& by_run,
                   std::size_t& corrected, const std::function<std::string()>& stamp) {
  auto page = rt.store().rows(side_table::requests, "intent-", "", 100);
  if (!page)
    return 0;
  std::size_t answered = 0;
  for (auto& row : page->rows) {
    auto r = gateway::from_record(row.rec, row.key);
    if (!r || r->status != gateway::request_status::pending)
      continue;
    auto it = by_run.find(r->run_id);
    if (it == by_run.end())
      continue;
    auto why = escalation::assessment_from_json(r->arguments.value("context", ""));
    std::printf("%s   escalated '%s': %s\n", stamp().c_str(), it->second->keyword,
                why ? why->reason.c_str() : "(no breakdown)");
    std::string reply = it->second->truth ? it->second->truth : "accept";
    if (it->second->truth) {
      ++corrected;
      std::printf("%s   reviewer corrects it: %s\n", stamp().c_str(), it->second->truth);
    } else {
      std::printf("%s   reviewer accepts it\n", stamp().c_str());
    }
    if (rt.decide(r->id, "ann", "respond", json{{"text", reply}}.dump(), "demo"))
      ++answered;
  }
  return answered;
}

/// One round: every keyword's run, the reviewer answering until all ended.
expected<std::pair<std::size_t, std::size_t>> run_round(
  runtime& rt, int round, std::span<const keyword_case> cases,
  const std::function<std::string()>& stamp) {
  std::size_t escalated = 0, corrected = 0;
  // One keyword after the other, so each is scored against all before it:
  // the same output on every run of the demo.
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto id = run_id_of(round, i);
    std::map<std::string, const keyword_case*> by_run{{id, &cases[i]}};
    if (auto ok = rt.start("intent_agent", id, std::string{cases[i].keyword}); !ok)
      return std::move(ok).error();
    // Bounded: a run asks at most once, and the sim answers at once.
    for (int tries = 0; tries < 1000; ++tries) {
      auto out = rt.wait(id, 20ms);
      if (out) {
        escalated += out->value<agent::agent_answer>().escalated;
        break;
      }
      review(rt, by_run, corrected, stamp);
    }
  }
  return std::pair{escalated, corrected};
}

} // namespace

expected<escalation_stage_result> run_escalation_stage(const command_env& env,
                                                       const std::string& data_dir,
                                                       const std::function<std::string()>& stamp) {
  std::error_code ec;
  std::filesystem::remove_all(data_dir, ec);
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
