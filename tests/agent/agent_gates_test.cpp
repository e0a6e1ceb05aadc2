// run_agent with the policy gate and ask_human, over the sim, a real runtime
// and LMDB. Several gated calls of one model turn are each in the inbox at
// once, none runs (gated or not) before every one is decided, a rejected
// one never runs and the model reads its rejection, and a restart while
// some are decided loses and repeats nothing. The model asks a person with
// the built-in ask_human tool only when it is offered; what it gets wrong
// about it comes back as a tool error; a person's answer is its result.
#include <catch2/catch.hpp>

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

void reset() { deleted = published = mailed = searched = 0; }

std::shared_ptr<const agent::tool_registry> tools() {
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

std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(
    "interrupt_on: {delete_file: true, publish: true, send_email: true}", "test-policy.yaml");
  REQUIRE(p);
  return std::make_shared<const gateway::policy>(std::move(*p));
}

task<agent::agent_answer> three_gated(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.name = "ops";
  spec.system_prompt = "You tidy up. [sim: call delete_file, publish, send_email; parallel 3]";
  spec.tools = {"delete_file", "publish", "send_email"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> mail_then_publish(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.system_prompt = "[sim: call send_email, publish; parallel 2]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> search_then_publish(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.system_prompt = "[sim: call search, publish; parallel 2]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> asks_when_unsure(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.name = "writer";
  spec.system_prompt = "You research a keyword whose search intent is ambiguous.";
  spec.tools = {"search", "ask_human"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> all_tools_unsure(context& ctx, std::string topic) {
  agent::agent_spec spec;  // tools empty: every registered tool, but not ask_human
  spec.system_prompt = "An ambiguous request. [sim: call search]";
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> offers_ask_human(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"ask_human"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

task<agent::agent_answer> offers_search_only(context& ctx, std::string topic) {
  agent::agent_spec spec;
  spec.tools = {"search"};
  co_return co_await agent::run_agent(ctx, spec, topic);
}

void workflows(workflow_registry& r) {
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

void gated(runtime_options& o) {
  o.tools = tools();
  o.policy = policy();
  o.llm = model;
  o.passivate_after = 10ms;
}

/// As gated, but publish expires (rejected) 1 s after it was raised.
void publish_expires(runtime_options& o) {
  gated(o);
  auto p = gateway::parse_policy(R"(
interrupt_on:
  send_email: true
  publish: {deadline: {after: 1s, outcome: reject}}
)", "deadline-policy.yaml");
  REQUIRE(p);
  o.policy = std::make_shared<const gateway::policy>(std::move(*p));
}

void fresh(std::vector<net::tool_call> forged = {}) {
  reset();
  model = std::make_shared<scripted_model>();
  model->forge(std::move(forged));
}

/// Every request row of run `run`, in raising order (ids are run/step).
std::vector<gateway::human_request> requests_of(runtime_fixture& f, const std::string& run) {
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

std::size_t pending_count(runtime_fixture& f, const std::string& run) {
  auto all = requests_of(f, run);
  return std::count_if(all.begin(), all.end(), [](auto& r) {
    return r.status == gateway::request_status::pending;
  });
}

/// The names of run `run`'s completed steps, in journal order.
std::vector<std::string> steps_of(runtime_fixture& f, const std::string& run) {
  std::vector<std::string> out;
  for (auto& e : f.events<step_completed_event>(run))
    out.push_back(e.name);
  return out;
}

std::size_t count_of(const std::vector<std::string>& names, const std::string& name) {
  return std::count(names.begin(), names.end(), name);
}

/// Where `name` first is in `names`; nullopt when it is not there (so an
/// order check on a step that never happened fails instead of passing).
std::optional<std::size_t> index_of(const std::vector<std::string>& names,
                                    const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    return std::nullopt;
  return static_cast<std::size_t>(it - names.begin());
}

/// Once the run has journaled every step in `done` and passivated: nothing
/// it could still do on its own is in flight (a step attempt keeps it live).
void await_idle(runtime_fixture& f, const std::string& run, const std::vector<std::string>& done) {
  REQUIRE(eventually([&] {
    auto steps = steps_of(f, run);
    return std::all_of(done.begin(), done.end(),
                       [&](auto& name) { return count_of(steps, name) > 0; });
  }));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
  REQUIRE(f.await_status(run, run_status::waiting));
}

std::string request_for(const std::vector<gateway::human_request>& all, const std::string& tool) {
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

/// agent_answer as it was before `questions` and `responded`.
struct old_answer {
  std::string text = "done";
  std::optional<double> confidence = 0.7;
  std::uint32_t turns = 3, tool_calls = 2, tool_errors = 1;
  std::vector<std::string> tools_called{"search", "read"};
  std::uint32_t rejected = 1;
  MSGPACK_DEFINE_MAP(text, confidence, turns, tool_calls, tool_errors, tools_called, rejected);
};

} // namespace

// -- what the model gets wrong about ask_human ----------------------------------------

SCENARIO("ask_human is offered only when named, and a call of it not offered is an unknown "
         "tool", "[agent][gates][ask_human]") {
  GIVEN("an unsure model and spec.tools empty (every registered tool)") {
    fresh();
    runtime_fixture f{workflows, gated};
    REQUIRE(f.rt().start("all_tools_unsure", "u1", std::string{"durable agents"}));
    auto answer = f.ended("u1", 10s).value<agent::agent_answer>();
    THEN("ask_human is not offered and nobody is asked") {
      for (auto& req : model->requests())
        for (auto& t : req.tools)
          CHECK(t.name != "ask_human");
      CHECK(answer.questions == 0);
      CHECK(answer.tools_called == std::vector<std::string>{"search"});
      CHECK(requests_of(f, "u1").empty());
    }
  }
  GIVEN("a model that calls ask_human although only search is offered") {
    fresh({{"call_1", "ask_human", R"({"question": "Which audience?"})"}});
    runtime_fixture f{workflows, gated};
    REQUIRE(f.rt().start("offers_search_only", "u2", std::string{"durable agents"}));
    auto answer = f.ended("u2", 10s).value<agent::agent_answer>();
    THEN("it reads unknown_tool listing what it may call, and no question is raised") {
      CHECK(answer.tool_errors == 1);
      CHECK(answer.questions == 0);
      CHECK(requests_of(f, "u2").empty());
      auto second = model->requests().at(1);
      auto result = json::parse(second.messages.back().content);
      CHECK(result["error"] == "unknown_tool");
      CHECK(result["tool"] == "ask_human");
      CHECK(result["available_tools"] == json{"search"});
    }
  }
  GIVEN("a model that calls a registered tool it was not offered") {
    fresh({{"call_1", "publish", R"({"target": "post"})"}});
    runtime_fixture f{workflows, gated};
    REQUIRE(f.rt().start("offers_search_only", "u3", std::string{"durable agents"}));
    auto answer = f.ended("u3", 10s).value<agent::agent_answer>();
    THEN("it is refused the same way: nothing raised, nothing run") {
      CHECK(answer.tool_errors == 1);
      CHECK(published == 0);
      CHECK(requests_of(f, "u3").empty());
      CHECK(json::parse(model->requests().at(1).messages.back().content)["error"]
            == "unknown_tool");
    }
  }
}

SCENARIO("ask_human arguments that break its schema go back to the model",
         "[agent][gates][ask_human]") {
  auto args = [](json j) { return j.dump(); };
  std::vector<std::string> many(21, "a choice");
  fresh({{"call_1", "ask_human", R"({"question": ""})"},
         {"call_2", "ask_human", R"({"question": "Which?", "choices": "a or b"})"},
         {"call_3", "ask_human", R"({"question": "Which?", "urgent": true})"},
         {"call_4", "ask_human", R"(not json)"},
         {"call_5", "ask_human", args({{"question", std::string(2001, 'q')}})},
         {"call_6", "ask_human", args({{"question", "Which?"}, {"choices", many}})},
         {"call_7", "ask_human",
          args({{"question", "Which?"}, {"choices", {"short", std::string(201, 'c')}}})},
         {"call_8", "ask_human", args({{"question", "Which?"}, {"context", std::string(4001, 'x')}})}});
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("offers_ask_human", "v1", std::string{"durable agents"}));
  auto answer = f.ended("v1", 10s).value<agent::agent_answer>();
  CHECK(answer.tool_errors == 8);
  CHECK(answer.questions == 0);
  CHECK(requests_of(f, "v1").empty());  // nobody was asked
  auto second = model->requests().at(1);
  std::vector<std::string> errors, too_long;
  for (auto& m : second.messages)
    if (m.role == net::chat_role::tool) {
      auto result = json::parse(m.content);
      CHECK(result["tool"] == "ask_human");
      CHECK(result["parameters"]["required"] == json{"question"});
      errors.push_back(result["error"]);
      if (m.tool_call_id >= "call_5")
        too_long.push_back(result["violations"].at(0)["path"]);
    }
  CHECK(errors == std::vector<std::string>{"invalid_arguments", "invalid_arguments",
                                           "invalid_arguments", "invalid_json",
                                           "invalid_arguments", "invalid_arguments",
                                           "invalid_arguments", "invalid_arguments"});
  // Each names what is too long, so the model can shorten it.
  CHECK(too_long == std::vector<std::string>{"/question", "/choices", "/choices/1", "/context"});
}

SCENARIO("ask_human's size limits: 2000 code points of question, 4000 of context, 20 choices "
         "of 200", "[agent][ask_human]") {
  agent::tool_registry registry;
  auto check = [&](const json& args) {
    return registry.prepare_arguments(agent::ask_human_definition(), args.dump());
  };
  std::vector<std::string> twenty(20, std::string(200, 'c'));
  // "é" is one code point in two bytes: the limits count code points.
  std::string question;
  for (int i = 0; i < 2000; ++i)
    question += "\xc3\xa9";
  THEN("arguments at every limit pass") {
    CHECK(check({{"question", question}, {"choices", twenty}, {"context", std::string(4000, 'x')}}));
  }
  THEN("one more of any of them is refused") {
    auto over = twenty;
    over.push_back("one more");
    CHECK_FALSE(check({{"question", question + "?"}}));
    CHECK_FALSE(check({{"question", "Which?"}, {"choices", over}}));
    CHECK_FALSE(check({{"question", "Which?"}, {"choices", {std::string(201, 'c')}}}));
    CHECK_FALSE(check({{"question", "Which?"}, {"context", std::string(4001, 'x')}}));
  }
}

// -- several gated calls in one turn ------------------------------------------------------

SCENARIO("several gated calls of one turn wait together and run only when all are decided",
         "[agent][gates]") {
  fresh();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("three_gated", "t1", std::string{"the old logs"}));

  // Each call has its own request, all in the inbox before anyone decides.
  REQUIRE(eventually([&] { return pending_count(f, "t1") == 3; }));
  REQUIRE(f.await_status("t1", run_status::waiting));
  auto raised = requests_of(f, "t1");
  REQUIRE(raised.size() == 3);
  CHECK(raised[0].tool == "delete_file");  // in call order
  CHECK(raised[1].tool == "publish");
  CHECK(raised[2].tool == "send_email");
  auto steps = steps_of(f, "t1");
  CHECK(count_of(steps, "gate:delete_file") == 1);
  CHECK(count_of(steps, "gate:send_email") == 1);
  CHECK(deleted + published + mailed == 0);

  // Two decided: the turn still waits, and no tool ran.
  auto del = request_for(raised, "delete_file"), pub = request_for(raised, "publish"),
       mail = request_for(raised, "send_email");
  REQUIRE(f.rt().decide(pub, "ann", "approve"));
  REQUIRE(f.rt().decide(del, "bob", "reject", R"({"reason": "keep the logs"})"));
  await_idle(f, "t1", {gateway::decision_signal(pub), gateway::decision_signal(del)});
  CHECK(deleted + published + mailed == 0);
  CHECK(pending_count(f, "t1") == 1);

  // A signal someone forged for the third wakes the run: it reads the row,
  // finds it pending, and the turn waits on (fail closed).
  gateway::request_outcome forged{gateway::decision::approve, {"ann"}, 1, "forged", {}, {}, {}};
  REQUIRE(f.rt().signal("t1", gateway::decision_signal(mail), gateway::outcome_payload(forged)));
  await_idle(f, "t1", {"decision:delete_file", "decision:publish", "decision:send_email"});
  CHECK(deleted + published + mailed == 0);
  CHECK(pending_count(f, "t1") == 1);

  // The third decided: the approved calls run, in call order; the rejected
  // one never does, and the model reads why.
  REQUIRE(f.rt().decide(mail, "ann", "approve"));
  auto out = f.ended("t1", 10s);
  REQUIRE(out.status == run_status::completed);
  auto answer = out.value<agent::agent_answer>();
  CHECK(published == 1);
  CHECK(mailed == 1);
  CHECK(deleted == 0);
  CHECK(answer.rejected == 1);
  CHECK(answer.tool_calls == 2);
  CHECK(answer.tools_called == std::vector<std::string>{"publish", "send_email"});
  CHECK(answer.turns == 2);
  CHECK_THAT(answer.text, Catch::Contains("delete_file was rejected (keep the logs)"));
  steps = steps_of(f, "t1");
  CHECK(count_of(steps, "tool:delete_file") == 0);
  auto last_gate = index_of(steps, "gate:send_email");
  auto first_decision = index_of(steps, gateway::decision_signal(pub));
  auto last_decision = index_of(steps, gateway::decision_signal(mail));
  auto first_run = index_of(steps, "tool:publish"), second_run = index_of(steps, "tool:send_email");
  REQUIRE(last_gate);
  REQUIRE(first_decision);
  REQUIRE(last_decision);
  REQUIRE(first_run);
  REQUIRE(second_run);
  CHECK(*last_gate < *first_decision);
  CHECK(*first_run < *second_run);
  CHECK(*last_decision < *first_run);
  CHECK(requests_of(f, "t1").size() == 3);
}

SCENARIO("a call the policy lets through waits for its turn's gated calls too", "[agent][gates]") {
  fresh();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("search_then_publish", "t2", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "t2") == 1; }));
  await_idle(f, "t2", {"gate:search", "gate:publish"});
  CHECK(searched == 0);  // the turn goes on as a whole
  REQUIRE(f.rt().decide(requests_of(f, "t2").at(0).id, "ann", "approve"));
  auto answer = f.ended("t2", 10s).value<agent::agent_answer>();
  CHECK(answer.tools_called == std::vector<std::string>{"search", "publish"});
  CHECK(searched == 1);
  CHECK(published == 1);
}

SCENARIO("a deadline in a turn is applied on time while another call waits without one",
         "[agent][gates][deadline]") {
  fresh();
  runtime_fixture f{workflows, publish_expires};
  REQUIRE(f.rt().start("mail_then_publish", "t5", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "t5") == 2; }));
  auto raised = requests_of(f, "t5");
  auto mail = request_for(raised, "send_email"), pub = request_for(raised, "publish");
  // Nobody decides anything: publish expires at its deadline all the same.
  REQUIRE(eventually([&] {
    for (auto& r : requests_of(f, "t5"))
      if (r.id == pub)
        return r.status == gateway::request_status::expired;
    return false;
  }));
  await_idle(f, "t5", {"deadline:publish"});
  CHECK(pending_count(f, "t5") == 1);
  CHECK(mailed + published == 0);
  REQUIRE(f.rt().decide(mail, "ann", "approve"));
  auto answer = f.ended("t5", 10s).value<agent::agent_answer>();
  CHECK(answer.tools_called == std::vector<std::string>{"send_email"});
  CHECK(answer.rejected == 1);
  CHECK_THAT(answer.text, Catch::Contains("publish was rejected (no decision within 1s)"));
  CHECK(mailed == 1);
  CHECK(published == 0);
}

SCENARIO("a restart while 1 of 3 gated calls is decided keeps every request and decision",
         "[agent][gates][restart]") {
  fresh();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("three_gated", "t3", std::string{"the old logs"}));
  REQUIRE(eventually([&] { return pending_count(f, "t3") == 3; }));
  auto raised = requests_of(f, "t3");
  auto pub = request_for(raised, "publish");
  REQUIRE(f.rt().decide(pub, "ann", "approve"));
  await_idle(f, "t3", {gateway::decision_signal(pub)});

  f.reopen();  // the runtime closed and opened again on the same directory
  REQUIRE(f.await_status("t3", run_status::waiting));
  auto after = requests_of(f, "t3");
  REQUIRE(after.size() == 3);  // nothing raised twice
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(after[i].id == raised[i].id);
    CHECK(after[i].arguments_hash == raised[i].arguments_hash);
  }
  CHECK(pending_count(f, "t3") == 2);
  CHECK(deleted + published + mailed == 0);
  auto again = f.rt().decide(pub, "bob", "reject");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::invalid_state);

  REQUIRE(f.rt().decide(request_for(after, "delete_file"), "bob", "approve"));
  REQUIRE(f.rt().decide(request_for(after, "send_email"), "bob", "reject"));
  auto answer = f.ended("t3", 10s).value<agent::agent_answer>();
  CHECK(answer.tools_called == std::vector<std::string>{"delete_file", "publish"});
  CHECK(answer.rejected == 1);
  CHECK(deleted == 1);
  CHECK(published == 1);
  CHECK(mailed == 0);
  CHECK(requests_of(f, "t3").size() == 3);
  auto steps = steps_of(f, "t3");
  CHECK(count_of(steps, "gate:publish") == 1);
  CHECK(count_of(steps, "ops/turn 1") == 1);  // the model was not asked again
}

SCENARIO("a copy of the data taken while 1 of 3 is decided (what SIGKILL leaves) raises and "
         "runs nothing twice", "[agent][gates][crash]") {
  namespace fs = std::filesystem;
  fresh();
  temp_dir snapshot;
  std::vector<gateway::human_request> raised;
  {
    runtime_fixture f{workflows, gated};
    REQUIRE(f.rt().start("three_gated", "t4", std::string{"the old logs"}));
    REQUIRE(eventually([&] { return pending_count(f, "t4") == 3; }));
    raised = requests_of(f, "t4");
    auto del = request_for(raised, "delete_file");
    REQUIRE(f.rt().decide(del, "ann", "approve"));
    await_idle(f, "t4", {gateway::decision_signal(del)});
    for (auto& e : fs::directory_iterator(f.dir()))
      fs::copy(e.path(), snapshot.path() + "/" + e.path().filename().string());
  }
  fresh();
  runtime_fixture next{workflows, gated};
  next.close();
  for (auto& e : fs::directory_iterator(snapshot.path()))
    fs::copy(e.path(), next.dir() + "/" + e.path().filename().string(),
             fs::copy_options::overwrite_existing);
  next.open();
  REQUIRE(next.await_status("t4", run_status::waiting));
  REQUIRE(requests_of(next, "t4").size() == 3);
  REQUIRE(next.rt().decide(request_for(raised, "publish"), "bob", "approve"));
  REQUIRE(next.rt().decide(request_for(raised, "send_email"), "bob", "approve"));
  auto answer = next.ended("t4", 10s).value<agent::agent_answer>();
  CHECK(answer.tool_calls == 3);
  CHECK(deleted == 1);
  CHECK(published == 1);
  CHECK(mailed == 1);
  CHECK(requests_of(next, "t4").size() == 3);
  CHECK(model->requests().size() == 1);  // only the final turn; turn 1 was replayed
}

SCENARIO("a gated call a person responds to in the tool's place is not counted as a call that "
         "ran", "[agent][gates]") {
  fresh();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("search_then_publish", "t6", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "t6") == 1; }));
  auto pub = requests_of(f, "t6").at(0);
  REQUIRE(pub.tool == "publish");
  REQUIRE(f.rt().decide(pub.id, "ann", "respond", json{{"text", "I published it by hand"}}.dump()));
  auto answer = f.ended("t6", 10s).value<agent::agent_answer>();
  CHECK(published == 0);  // the tool never ran
  CHECK(searched == 1);
  CHECK(answer.responded == 1);
  CHECK(answer.tool_calls == 1);
  CHECK(answer.tools_called == std::vector<std::string>{"search"});
  CHECK(answer.rejected == 0);
  CHECK(answer.tool_errors == 0);
  CHECK(count_of(steps_of(f, "t6"), "tool:publish") == 0);
  // The model read the person's text as publish's result.
  auto last = model->requests().back();
  bool read = false;
  for (auto& m : last.messages)
    if (m.role == net::chat_role::tool
        && m.content == json{{"response", "I published it by hand"}, {"by", {"ann"}}}.dump())
      read = true;
  CHECK(read);
}

SCENARIO("a request that cannot be decided outside a runtime fails its run, naming run, "
         "request and tool and what to do", "[agent][gates]") {
  bare_host host;
  context ctx{host};
  std::vector<agent::detail::gated_call> calls(2);
  calls[0].tool = "search";
  calls[0].settled = true;  // let through
  calls[1].tool = "publish";
  calls[1].raised.id = "bare-run/4";
  auto waiting = agent::detail::await_decisions(ctx, calls);
  waiting.start();
  REQUIRE(waiting.done());
  try {
    waiting.result();
    FAIL("a wait without a gateway went on");
  } catch (const fatal_error& e) {
    std::string why = e.what();
    CHECK_THAT(why, Catch::Contains("run bare-run"));
    CHECK_THAT(why, Catch::Contains("tool 'publish'"));
    CHECK_THAT(why, Catch::Contains("request bare-run/4"));
    CHECK_THAT(why, Catch::Contains("endure serve"));
    CHECK_THAT(why, Catch::Contains("endure approve|reject|answer bare-run/4"));
  }
}

// -- the model asks a person -----------------------------------------------------------------

SCENARIO("an unsure model asks a person an open question, answered in their words",
         "[agent][gates][ask_human]") {
  fresh();
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("asks_when_unsure", "q1", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "q1") == 1; }));
  REQUIRE(f.await_status("q1", run_status::waiting));
  CHECK(searched == 0);  // it asks before anything else
  auto q = requests_of(f, "q1").at(0);
  CHECK(q.kind == gateway::request_kind::question);
  CHECK(q.tool == "ask_human");
  REQUIRE(q.arguments["question"].is_string());
  CHECK_THAT(q.arguments["question"].get<std::string>(),
             Catch::StartsWith("Your request is not clear to me (confidence 0.") &&
               Catch::EndsWith("What should I focus on: durable agents?"));
  CHECK(q.arguments["choices"].empty());  // the sim asks openly
  CHECK_FALSE(q.arguments["context"].get<std::string>().empty());
  const std::string words = "for engineers who run services";
  REQUIRE(f.rt().decide(q.id, "ann", "respond", json{{"text", words}}.dump()));

  auto out = f.ended("q1", 10s);
  REQUIRE(out.status == run_status::completed);
  auto answer = out.value<agent::agent_answer>();
  CHECK(answer.questions == 1);
  CHECK(answer.tool_calls == 1);
  CHECK(answer.tools_called == std::vector<std::string>{"search"});
  CHECK(answer.tool_errors == 0);
  REQUIRE(answer.confidence);
  CHECK(*answer.confidence < 0.5);
  CHECK_THAT(answer.text, Catch::Contains("ask_human returned"));
  CHECK(searched == 1);
  // The model read the answer as the tool's result.
  auto last = model->requests().back();
  bool read = false;
  for (auto& m : last.messages)
    if (m.role == net::chat_role::tool && m.content == json{{"answer", words}}.dump())
      read = true;
  CHECK(read);
  auto steps = steps_of(f, "q1");
  CHECK(count_of(steps, "ask_human") == 1);
  CHECK(count_of(steps, "decision:ask_human") == 1);
}

SCENARIO("a model's question with choices takes exactly one of them as its answer",
         "[agent][gates][ask_human]") {
  fresh({{"call_1", "ask_human",
          R"({"question": "Which audience?", "choices": ["engineers", "managers"]})"}});
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("asks_when_unsure", "q2", std::string{"durable agents"}));
  REQUIRE(eventually([&] { return pending_count(f, "q2") == 1; }));
  auto q = requests_of(f, "q2").at(0);
  CHECK(q.arguments["choices"] == json{"engineers", "managers"});

  auto off = f.rt().decide(q.id, "ann", "respond", json{{"text", "engineers!"}}.dump());
  REQUIRE_FALSE(off);
  CHECK(off.error().code == errc::invalid_argument);
  CHECK(pending_count(f, "q2") == 1);
  REQUIRE(f.rt().decide(q.id, "ann", "respond", json{{"text", "managers"}}.dump()));

  auto out = f.ended("q2", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<agent::agent_answer>().questions == 1);
  bool read = false;
  auto last = model->requests().back();
  for (auto& m : last.messages)
    if (m.role == net::chat_role::tool && m.content == json{{"answer", "managers"}}.dump())
      read = true;
  CHECK(read);
}

SCENARIO("an agent answer journaled before questions and responded existed still reads",
         "[agent][gates]") {
  auto back = from_bytes<agent::agent_answer>(to_bytes(old_answer{}));
  CHECK(back.text == "done");
  CHECK(back.turns == 3);
  CHECK(back.tools_called == std::vector<std::string>{"search", "read"});
  CHECK(back.rejected == 1);
  CHECK(back.questions == 0);
  CHECK(back.responded == 0);
  agent::agent_answer now;
  now.questions = 2;
  now.responded = 3;
  auto again = from_bytes<agent::agent_answer>(to_bytes(now));
  CHECK(again.questions == 2);
  CHECK(again.responded == 3);
}
