// The content agent's workflow (content_agent.hpp): one run_agent call.
// Everything durable about it (each model turn and tool call journaled, the
// policy gate on publish, the wait for a person) is endure's; this file
// only says what the agent is for and which tools it may use.
#include "content_agent.hpp"

namespace content_agent {

namespace {

const char* system_prompt =
  "You write one article for a blog about software, for the keyword you are given. "
  "Search the web for it, read the best source, draft the article, then publish it. "
  "If the keyword's search intent is unclear, first ask a human (ask_human) which "
  "meaning readers want, and write about that one.";

} // namespace

endure::task<endure::agent::agent_answer> write_article(endure::context& ctx, assignment a) {
  endure::agent::agent_spec spec;
  spec.name = "writer";
  spec.system_prompt = system_prompt;
  // Offered in this order; ask_human is endure's built-in tool.
  spec.tools = {"search", "read", "draft", "publish", "ask_human"};
  spec.max_turns = 12;
  spec.settings.max_tokens = 400;
  std::string input = "Keyword: " + a.keyword + "\nSearch intent: "
                      + (a.intent.empty() ? std::string{"unknown"} : a.intent);
  auto agent = endure::agent::run_agent(ctx, std::move(spec), std::move(input));
  co_return co_await std::move(agent);
}

void register_workflows(endure::workflow_registry& workflows) {
  workflows.add("content_agent", &write_article);
}

const std::string& default_policy_yaml() {
  static const std::string text =
#include "content_agent_policy.inc"
    ;
  return text;
}

} // namespace content_agent
