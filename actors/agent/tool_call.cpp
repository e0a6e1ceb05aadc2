// context::tool and context::ask_human: one call through the three phases
// of detail/tool_phases.hpp (gate or question, wait for the person, run).
// run_agent takes a whole model turn through the same phases.
#include "endure/actors/agent/tool_call.hpp"

#include <utility>

#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/persistence/failure.hpp"

namespace endure {

using json = nlohmann::json;

const agent::tool_registry* context::tools() const noexcept {
  auto* services = host_->services();
  return services ? services->tools() : nullptr;
}

task<json> context::tool(std::string name, json args) {
  auto gate = agent::detail::pass_gate(*this, std::move(name), std::move(args));
  std::vector<agent::detail::gated_call> calls;
  auto gated = co_await std::move(gate);
  calls.push_back(std::move(gated));
  auto decided = agent::detail::await_decisions(*this, calls);
  co_await std::move(decided);
  auto run = agent::detail::run_decided(*this, std::move(calls.front()));
  auto done = co_await std::move(run);
  co_return std::move(done.result);
}

task<std::string> context::ask_human(std::string question, std::vector<std::string> choices,
                                     std::string about) {
  auto ask = agent::detail::raise_question(*this, std::move(question), std::move(choices),
                                           std::move(about));
  std::vector<agent::detail::gated_call> calls;
  auto asked = co_await std::move(ask);
  calls.push_back(std::move(asked));
  auto answered = agent::detail::await_decisions(*this, calls);
  co_await std::move(answered);
  auto answer = agent::detail::answer_of(calls.front());
  if (!answer)
    throw fatal_error("run " + run_id() + ": " + answer.error().message);
  co_return std::move(*answer);
}

} // namespace endure
