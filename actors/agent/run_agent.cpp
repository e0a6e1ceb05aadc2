// The tool-calling loop: model turn -> tool calls -> results -> model turn.
#include "endure/actors/agent/run_agent.hpp"

#include <algorithm>

#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/workflow_errors.hpp"
#include "endure/persistence/failure.hpp"

namespace endure::agent {

namespace {

using json = nlohmann::json;

std::vector<net::tool_definition> offered(const tool_registry& registry,
                                          const std::vector<std::string>& names) {
  auto all = registry.to_definitions();
  if (names.empty())
    return all;
  std::vector<net::tool_definition> out;
  for (auto& d : all)
    if (std::find(names.begin(), names.end(), d.name) != names.end())
      out.push_back(std::move(d));
  return out;
}

json tool_failed(const std::string& tool, const std::string& message) {
  return {{"error", "tool_failed"}, {"tool", tool}, {"message", message}};
}

} // namespace

task<agent_answer> run_agent(context& ctx, agent_spec spec, std::string input) {
  const tool_registry* registry = ctx.tools();
  if (!registry)
    throw fatal_error("run " + ctx.run_id() + ", agent '" + spec.name
                      + "': no tools are configured (runtime_options::tools)");
  std::vector<net::chat_message> messages;
  if (!spec.system_prompt.empty())
    messages.push_back(net::chat_message::system(spec.system_prompt));
  messages.push_back(net::chat_message::user(std::move(input)));
  auto definitions = offered(*registry, spec.tools);
  agent_answer answer;
  std::string last_tool = "none";
  while (answer.turns < spec.max_turns) {
    net::chat_request request = spec.settings;
    request.messages = messages;
    request.tools = definitions;
    request.request_confidence = true;
    ++answer.turns;
    auto step_name = spec.name + "/turn " + std::to_string(answer.turns);
    auto turn = ctx.llm(std::move(step_name), std::move(request));
    net::chat_response reply = co_await std::move(turn);
    answer.confidence = reply.confidence;
    if (reply.tool_calls.empty()) {
      answer.text = std::move(reply.content);
      co_return answer;
    }
    net::chat_message said = net::chat_message::assistant(reply.content);
    said.tool_calls = reply.tool_calls;
    messages.push_back(std::move(said));
    for (auto& call : reply.tool_calls) {  // one after another: each may wait for a person
      auto prepared = registry->prepare_call(call);
      json result;
      if (!prepared) {
        ++answer.tool_errors;
        result = prepared.error().to_json();
      } else {
        last_tool = call.name;
        try {
          auto run = ctx.tool(call.name, prepared->arguments);
          result = co_await std::move(run);
          if (result.is_object() && result.value("error", "") == "rejected") {
            ++answer.rejected;  // a person said no: the tool did not run
          } else {
            ++answer.tool_calls;
            answer.tools_called.push_back(call.name);
          }
        } catch (const step_failed_error& e) {
          ++answer.tool_errors;
          result = tool_failed(call.name, e.what());
        }
      }
      messages.push_back(net::chat_message::tool_result(
        call.id, result.dump(-1, ' ', false, json::error_handler_t::replace)));
    }
  }
  throw fatal_error("run " + ctx.run_id() + ", agent '" + spec.name + "': no final answer within "
                    + std::to_string(spec.max_turns) + " turns (max_turns); last tool called: "
                    + last_tool);
}

} // namespace endure::agent
