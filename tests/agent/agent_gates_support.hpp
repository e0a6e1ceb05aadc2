// Support of the run_agent gate tests (agent_gates_test.cpp,
// ask_human_tool_test.cpp): the tools, policy, workflows and scripted model
// they share, and readers of a run's requests and steps. Each test file
// gets its own copy (an unnamed namespace): counters do not cross files.
#pragma once


#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/ask_human_tool.hpp"
#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/net/llm_backend.hpp"
#include "endure/persistence/journal.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;


namespace {


std::atomic<int> deleted{0}, published{0}, mailed{0}, searched{0};

inline void reset() { deleted = published = mailed = searched = 0; }

inline std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json target = {{"type", "object"},
                 {"properties", {{"target", {{"type", "string"}, {"minLength", 1}}}}},
                 {"required", {"target"}}};
  auto counting = [](std::atomic<int>& n) {
    return [&n](const json& args) {
      ++n;
      return json{{"done", args["target"]}};
    };
  };
  REQUIRE(r->add({"delete_file", "Deletes a file.", target, counting(deleted), true}));
  REQUIRE(r->add({"publish", "Publishes a post.", target, counting(published), true}));
  REQUIRE(r->add({"send_email", "Sends an email.", target, counting(mailed), true}));
  REQUIRE(r->add({"search", "Searches the web.", target, counting(searched)}));
  return r;
}

inline std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(
    "interrupt_on: {delete_file: true, publish: true, send_email: true}", "test-policy.yaml");
  REQUIRE(p);
  return std::make_shared<const gateway::policy>(std::move(*p));
}

inline task<agent::agent_answer> three_gated(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.name = "ops";
  spec.system_prompt = "You tidy up. [sim: call delete_file, publish, send_email; parallel 3]";
  spec.tools = {"delete_file", "publish", "send_email"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline task<agent::agent_answer> mail_then_publish(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.system_prompt = "[sim: call send_email, publish; parallel 2]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline task<agent::agent_answer> search_then_publish(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.system_prompt = "[sim: call search, publish; parallel 2]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline task<agent::agent_answer> asks_when_unsure(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.name = "writer";
  spec.system_prompt = "You research a keyword whose search intent is ambiguous.";
  spec.tools = {"search", "ask_human"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline task<agent::agent_answer> all_tools_unsure(context& ctx, std::string topic) {
  agent::agent_spec spec;  // tools empty: every registered tool, but not ask_human
  spec.system_prompt = "An ambiguous request. [sim: call search]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline task<agent::agent_answer> offers_ask_human(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"ask_human"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline task<agent::agent_answer> offers_search_only(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"search"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

inline void workflows(workflow_registry& r) {
  r.add("three_gated", &three_gated);
  r.add("search_then_publish", &search_then_publish);
  r.add("mail_then_publish", &mail_then_publish);
  r.add("asks_when_unsure", &asks_when_unsure);
  r.add("all_tools_unsure", &all_tools_unsure);
  r.add("offers_ask_human", &offers_ask_human);
  r.add("offers_search_only", &offers_search_only);
}

/// The sim, recording every request; its first answer can be replaced by
/// `forged` tool calls (a model calling what it was not offered, or with
/// arguments that break the schema).
class scripted_model : public net::llm_backend {
public:
  scripted_model() : sim_(net::make_llm_backend({})) {}
  const std::string& name() const noexcept override { return sim_->name(); }
  void chat(net::chat_request request, chat_callback done) override {
    bool first;
    {
      std::lock_guard g{m_};
      requests_.push_back(request);
      first = requests_.size() == 1;
    }
    if (first && !forged_.empty()) {
      net::chat_response r;
      r.model = "sim";
      r.tool_calls = forged_;
      r.finish_reason = "tool_calls";
      done(std::move(r));
      return;
    }
    sim_->chat(std::move(request), std::move(done));
  }
  void embed(net::embedding_request request, embed_callback done) override {
    sim_->embed(std::move(request), std::move(done));
  }

  void forge(std::vector<net::tool_call> calls) { forged_ = std::move(calls); }
  std::vector<net::chat_request> requests() {
    std::lock_guard g{m_};
    return requests_;
  }

private:
  std::unique_ptr<net::llm_backend> sim_;
  std::vector<net::tool_call> forged_;
  std::mutex m_;
  std::vector<net::chat_request> requests_;
};

std::shared_ptr<scripted_model> model;

inline void gated(runtime_options& o) {
  o.tools = tools();
  o.policy = policy();
  o.llm = model;
  o.passivate_after = 10ms;
}

/// As gated, but publish expires (rejected) 1 s after it was raised.
inline void publish_expires(runtime_options& o) {
  gated(o);
  auto p = gateway::parse_policy(R"(
interrupt_on:
  send_email: true
  publish: {deadline: {after: 1s, outcome: reject}}
)", "deadline-policy.yaml");
  REQUIRE(p);
  o.policy = std::make_shared<const gateway::policy>(std::move(*p));
}

inline void fresh(std::vector<net::tool_call> forged = {}) {
  reset();
  model = std::make_shared<scripted_model>();
  model->forge(std::move(forged));
}

/// Every request row of run `run`, in raising order (ids are run/step).
inline std::vector<gateway::human_request> requests_of(runtime_fixture& f, const std::string& run) {
  auto page = f.rt().store().rows(side_table::requests, run + "/", "", 100);
  REQUIRE(page);
  std::vector<gateway::human_request> out;
  for (auto& row : page->rows) {
    auto r = gateway::from_record(row.rec, row.key);
    REQUIRE(r);
    out.push_back(std::move(*r));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) {
    return std::stoull(a.id.substr(a.id.find('/') + 1)) < std::stoull(b.id.substr(b.id.find('/') + 1));
  });
  return out;
}

inline std::size_t pending_count(runtime_fixture& f, const std::string& run) {
  auto all = requests_of(f, run);
  return std::count_if(all.begin(), all.end(), [](auto& r) {
    return r.status == gateway::request_status::pending;
  });
}

/// The names of run `run`'s completed steps, in journal order.
inline std::vector<std::string> steps_of(runtime_fixture& f, const std::string& run) {
  std::vector<std::string> out;
  for (auto& e : f.events<step_completed_event>(run))
    out.push_back(e.name);
  return out;
}

inline std::size_t count_of(const std::vector<std::string>& names, const std::string& name) {
  return std::count(names.begin(), names.end(), name);
}

/// Where `name` first is in `names`; nullopt when it is not there (so an
/// order check on a step that never happened fails instead of passing).
inline std::optional<std::size_t> index_of(const std::vector<std::string>& names,
                                    const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    return std::nullopt;
  return static_cast<std::size_t>(it - names.begin());
}

/// Once the run has journaled every step in `done` and passivated: nothing
/// it could still do on its own is in flight (a step attempt keeps it live).
inline void await_idle(runtime_fixture& f, const std::string& run, const std::vector<std::string>& done) {
  REQUIRE(eventually([&] {
    auto steps = steps_of(f, run);
    return std::all_of(done.begin(), done.end(),
                       [&](auto& name) { return count_of(steps, name) > 0; });
  }));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
  REQUIRE(f.await_status(run, run_status::waiting));
}

inline std::string request_for(const std::vector<gateway::human_request>& all, const std::string& tool) {
  for (auto& r : all)
    if (r.tool == tool)
      return r.id;
  FAIL("no request for " << tool);
  return {};
}

/// A run host with none of a runtime's services (no gateway), whose steps
/// must not be reached.
class bare_host : public endure::detail::run_host {
public:
  const std::string& run_id() const noexcept override { return id_; }
  void prepare(endure::detail::op_request& req, endure::detail::op_slot&) override {
    FAIL("no step expected, got " << req.name);
  }
  void submit(endure::detail::op_request req, endure::detail::op_slot&) override {
    FAIL("no step expected, got " << req.name);
  }
  void add_compensation(std::uint64_t, std::string, std::function<void(const step_info&)>,
                        retry_policy) override {}

private:
  std::string id_ = "bare-run";
};

} // namespace
