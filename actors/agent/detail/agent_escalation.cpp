// run_agent's escalation checks (detail/agent_escalation.hpp).
#include "endure/actors/agent/detail/agent_escalation.hpp"

#include <algorithm>
#include <cctype>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/escalation/escalate.hpp"
#include "endure/actors/escalation/matrix_json.hpp"

namespace endure::agent::detail {

namespace {

using json = nlohmann::json;

escalation::proposal proposal_of(const turn_view& v, std::string type_suffix, std::string input,
                                 std::string action) {
  escalation::proposal p;
  p.task_type = v.spec->escalation->task_type + "/" + type_suffix;
  p.input = std::move(input);
  p.action = std::move(action);
  p.confidence = v.reply->confidence;
  p.reasoning = v.reply->content;
  return p;
}

std::optional<escalation::sampling> sampling_of(const turn_view& v) {
  if (v.spec->escalation->samples < 2)
    return std::nullopt;
  return escalation::sampling{*v.request, v.spec->escalation->samples};
}

escalation::embedding_source embeddings_of(const turn_view& v) {
  return v.spec->escalation->model_embeddings ? escalation::embedding_source::model
                                              : escalation::embedding_source::built_in;
}

std::string label_of(const turn_view& v, const std::string& what) {
  return v.spec->name + "/turn " + std::to_string(v.turn) + "/" + what;
}

/// What a person reads when the matrix asks them: why, in numbers.
std::string why(const escalation::assessment& a) {
  return "Why you are asked: " + a.reason + " (task type's escalation matrix, model version "
         + std::to_string(a.model_version) + ")";
}

std::string trimmed_lower(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

} // namespace

task<bool> check_tool_call(context& ctx, turn_view view, const std::string& tool,
                           const json& arguments, bool irreversible, agent_answer& answer,
                           json& rejection) {
  auto args = canonical_json(arguments);
  auto p = proposal_of(view, "tool:" + tool, *view.input + "\n" + tool + " " + args, "tool:" + tool);
  p.irreversible = irreversible;
  auto label = label_of(view, "tool:" + tool);
  auto assessing = escalation::assess(ctx, label, p, sampling_of(view), embeddings_of(view));
  auto a = co_await std::move(assessing);
  if (a.decision == escalation::decision::proceed)
    co_return true;
  ++answer.escalated;
  auto question = "Agent '" + view.spec->name + "' wants to call " + tool + " with " + args
                  + ".\n" + why(a) + "\nApprove or reject the call?";
  auto asking = ctx.ask_human(std::move(question), {"approve", "reject"},
                              escalation::to_json_text(a));
  auto reply = co_await std::move(asking);
  bool approved = trimmed_lower(reply) == "approve";
  auto recording = escalation::record_outcome(ctx, label, a, p, approved ? 0.0 : 1.0);
  co_await std::move(recording);
  if (approved)
    co_return true;
  ++answer.corrected;
  rejection = {{"error", "rejected"}, {"tool", tool},
               {"reason", "a person rejected the call when the escalation matrix asked"}};
  co_return false;
}

task<std::string> check_final_answer(context& ctx, turn_view view, agent_answer& answer) {
  auto& text = view.reply->content;
  auto p = proposal_of(view, "answer", *view.input, "answer");
  auto label = label_of(view, "answer");
  auto assessing = escalation::assess(ctx, label, p, sampling_of(view), embeddings_of(view));
  auto a = co_await std::move(assessing);
  if (a.decision == escalation::decision::proceed)
    co_return text;
  ++answer.escalated;
  auto question = "Agent '" + view.spec->name + "' proposes this final answer:\n\n" + text + "\n\n"
                  + why(a) + "\nReply \"accept\" to keep it, or reply with the corrected answer.";
  auto asking = ctx.ask_human(std::move(question), {}, escalation::to_json_text(a));
  auto reply = co_await std::move(asking);
  bool accepted = trimmed_lower(reply) == "accept" || reply == text;
  auto recording = escalation::record_outcome(ctx, label, a, p, accepted ? 0.0 : 1.0);
  co_await std::move(recording);
  if (accepted)
    co_return text;
  ++answer.corrected;
  co_return reply;
}

} // namespace endure::agent::detail
