// Tool verifications (tool_check.hpp).
#include "endure/actors/state/tool_check.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/state/command_check.hpp"
#include "endure/net/sha256.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

/// The workflow core's wall clock (journaled timestamps use the same).
constexpr auto wall_ms = ::endure::detail::now_ms;

/// Does `result` hold every field of `expected` with the same value?
bool holds(const json& result, const json& expected_fields) {
  if (!result.is_object())
    return expected_fields.empty();
  for (auto& [k, v] : expected_fields.items()) {
    auto it = result.find(k);
    if (it == result.end() || *it != v)
      return false;
  }
  return true;
}

} // namespace

evidence run_tool_check(const verification& v, const agent::tool_registry* tools) {
  evidence e;
  e.ran = "tool " + v.tool + " " + v.tool_args;
  auto t0 = std::chrono::steady_clock::now();
  auto finish = [&](std::string reason) {
    e.reason = std::move(reason);
    e.passed = e.reason.empty();
    e.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
    e.at_ms = wall_ms();
    return e;
  };
  const agent::tool* tool = tools ? tools->find(v.tool) : nullptr;
  if (!tool)
    return finish("the runtime has no tool \"" + v.tool + "\" (runtime_options::tools)");
  auto result = std::make_shared<std::promise<json>>();
  auto answer = result->get_future();
  std::thread([fn = tool->function, args = json::parse(v.tool_args), result] {
    try {
      result->set_value(fn(step_info{}, args));
    } catch (...) {
      result->set_exception(std::current_exception());
    }
  }).detach();
  if (answer.wait_for(v.timeout) != std::future_status::ready) {
    e.timed_out = true;
    return finish("timed out after " + std::to_string(v.timeout.count())
                  + " ms: the tool did not answer");
  }
  json got;
  try {
    got = answer.get();
  } catch (const std::exception& ex) {
    return finish(std::string{"the tool failed: "} + ex.what());
  }
  // A tool may hand back raw bytes (a file's content): each one that is not
  // UTF-8 is hashed and shown as U+FFFD rather than failing the step.
  auto text = got.dump(-1, ' ', false, json::error_handler_t::replace);
  e.result_hash = net::sha256_hex(text);
  e.output_tail = tail_of(text);
  if (got.is_object() && got.contains("error") && !got["error"].is_null())
    return finish("the tool answered with an error");
  if (!holds(got, json::parse(v.expect_result)))
    return finish("the result does not hold " + v.expect_result);
  return finish({});
}

evidence run_check(const verification& v, const std::filesystem::path& workdir,
                   const agent::tool_registry* tools) {
  return v.command.empty() ? run_tool_check(v, tools) : run_command_check(v, workdir, wall_ms);
}

} // namespace endure::state
