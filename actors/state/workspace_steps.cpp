// Artifacts and write-backs as journaled steps (workspace_steps.hpp).
#include "endure/actors/state/workspace_steps.hpp"

#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/state/artifact_store.hpp"
#include "endure/actors/state/detail/step_failure.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/actors/workflow_errors.hpp"

namespace endure::state {

namespace {

std::string where(const step_info& info) {
  return "run " + info.run_id + ", step '" + info.name + "'";
}

} // namespace

op_awaiter<std::string> save_artifact(context& ctx, std::string task, std::string name,
                                      std::string bytes, std::uint32_t session) {
  auto* services = agent::detail::context_access::services(ctx);
  journal* store = services ? services->store() : nullptr;
  auto body = [store, session](const step_info& info, const std::string& task,
                               const std::string& name, const std::string& bytes) {
    if (!store)
      throw fatal_error(where(info) + ": artifacts need the runtime's journal");
    artifact_store artifacts{*store};
    auto id = artifacts.put(task, name, bytes, {info.run_id, session, info.step});
    if (!id)
      detail::throw_step_failure(where(info), id.error());
    return std::move(*id);
  };
  return ctx.step("artifact:" + name, body, std::move(task), name, std::move(bytes));
}

op_awaiter<std::string> commit_workspace(context& ctx, std::string dir, std::string message,
                                         bool allow_empty) {
  auto body = [allow_empty](const step_info& info, const std::string& dir,
                            const std::string& message) {
    auto ws = workspace::open_or_init(dir);
    if (!ws)
      detail::throw_step_failure(where(info), ws.error());
    auto done = ws->commit_all(message, info.idempotency_key, allow_empty);
    if (!done)
      detail::throw_step_failure(where(info), done.error());
    return std::move(done->commit);
  };
  return ctx.step("workspace:commit", body, std::move(dir), std::move(message));
}

} // namespace endure::state
