// The escalation matrix inside a runtime: an agent that may refund orders
// asks a person when the matrix says so, before the refund and before its
// final answer; what the person answers teaches the matrix.
//
//   escalation_agent_example [DATA_DIR]
//
// The model is the offline sim; the "person" is this program, approving
// each refund and accepting each answer. The first ticket is novel and is
// asked about; the similar ones after it, and the person's approvals,
// lower the score below the threshold.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/endure.hpp"
#include "endure/actors/escalation/escalation_options.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace std::chrono_literals;
using nlohmann::json;

task<agent::agent_answer> support_agent(context& ctx, std::string ticket) {
  agent::agent_spec spec;
  spec.system_prompt = "Resolve the ticket. [sim: call refund] [sim: confidence 0.85]";
  spec.tools = {"refund"};
  spec.escalation = agent::escalation_spec{.task_type = "support/refund"};
  co_return co_await agent::run_agent(ctx, spec, ticket);
}

std::shared_ptr<agent::tool_registry> make_tools() {
  auto tools = std::make_shared<agent::tool_registry>();
  json order = {{"type", "object"},
                {"properties", {{"target", {{"type", "string"}, {"minLength", 1}}}}},
                {"required", {"target"}}};
  auto refund = [](const json& args) { return json{{"refunded", args["target"]}}; };
  if (!tools->add({"refund", "Refunds an order.", order, refund, /*irreversible*/ true}))
    std::exit(1);
  return tools;
}

/// The person: approves every escalated refund, accepts every answer.
void answer_pending(runtime& rt) {
  auto page = rt.store().rows(side_table::requests, "", "", 100);
  for (auto& row : page ? page->rows : std::vector<stored_row>{}) {
    auto r = gateway::from_record(row.rec, row.key);
    if (!r || r->status != gateway::request_status::pending)
      continue;
    std::printf("asked: %s\n", r->arguments.value("question", "").c_str());
    auto choices = r->arguments.value("choices", json::array());
    auto reply = choices.empty() ? "accept" : "approve";
    (void)rt.decide(r->id, "you", "respond", json{{"text", reply}}.dump());
  }
}

int main(int argc, char** argv) {
  runtime_options opts;
  opts.journal.data_dir = argc > 1 ? argv[1] : "escalation-example-data";
  opts.tools = make_tools();
  opts.llm = net::make_llm_backend({});  // the sim: offline, deterministic
  opts.escalation = std::make_shared<escalation::escalation_options>();  // fixed threshold 0.5
  workflow_registry workflows;
  workflows.add("support_agent", &support_agent);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().message.c_str());
    return 1;
  }
  const char* tickets[] = {"order 1001 arrived broken", "order 1002 arrived broken",
                           "order 1003 never arrived"};
  for (int i = 0; i < 3; ++i) {
    auto id = "ticket-" + std::to_string(i + 1);
    auto* ticket = tickets[i];
    if (!(*rt)->start("support_agent", id, std::string{ticket}))
      return 1;
    std::optional<agent::agent_answer> answer;
    for (int tries = 0; tries < 500 && !answer; ++tries) {  // at most ~10 s
      auto out = (*rt)->wait(id, 20ms);
      if (out && out->status != run_status::completed) {
        std::fprintf(stderr, "%s did not complete: %s\n", id.c_str(), out->error.c_str());
        return 1;
      }
      if (out)
        answer = out->value<agent::agent_answer>();
      else
        answer_pending(**rt);
    }
    if (!answer)
      return 1;
    std::printf("%s: %u escalated, %u corrected, %zu refund(s)\n", id.c_str(),
                answer->escalated, answer->corrected, answer->tools_called.size());
  }
  return 0;
}
