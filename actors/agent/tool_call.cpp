// context::tool: validate, then one durable step that runs the tool and
// journals its result as JSON text.
#include "endure/actors/agent/tool_call.hpp"

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_schema.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/persistence/failure.hpp"

namespace endure {

namespace {

std::string describe(const std::vector<agent::schema_violation>& violations) {
  std::string out;
  for (auto& v : violations)
    out += (out.empty() ? "" : "; ") + (v.path.empty() ? std::string{"/"} : v.path) + ": "
           + v.message;
  return out;
}

/// The tool's result as JSON text (invalid UTF-8 replaced, never thrown).
std::string result_text(const nlohmann::json& result) {
  return result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

const agent::tool_registry* context::tools() const noexcept {
  auto* services = host_->services();
  return services ? services->tools() : nullptr;
}

task<nlohmann::json> context::tool(std::string name, nlohmann::json args) {
  auto where = "run " + run_id() + ", tool '" + name + "'";
  auto* tools = this->tools();
  if (!tools)
    throw fatal_error(where + ": no tools are configured (runtime_options::tools)");
  const agent::tool* t = tools->find(name);
  if (!t)
    throw fatal_error(where + ": no such tool is registered");
  if (auto violations = agent::validate(t->parameters, args); !violations.empty())
    throw fatal_error(where + ": the arguments break the tool's schema: " + describe(violations));
  std::string canonical;
  try {
    canonical = agent::canonical_json(args);
  } catch (const std::invalid_argument& e) {
    throw fatal_error(where + ": " + e.what());
  }
  auto run = [t](const step_info& info, const std::string& text) {
    return result_text(t->function(info, nlohmann::json::parse(text)));
  };
  retry_policy policy;
  if (t->irreversible)  // a retried attempt could repeat an effect that took
    policy.max_attempts = 1;
  auto step_name = "tool:" + name;
  auto call = step(std::move(step_name), run, std::move(canonical)).retry(policy);
  auto text = co_await std::move(call);
  co_return nlohmann::json::parse(text);
}

} // namespace endure
