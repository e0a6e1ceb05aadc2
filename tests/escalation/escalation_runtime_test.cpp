// The escalation actor in a real runtime over real LMDB: a workflow's
// assessment is journaled with its breakdown and a replay does not ask the
// actor again; one decision key gets one answer and one stored input; a
// bad proposal fails its step with the actor's words; and in a child
// process killed with SIGKILL (twice, in different places) no acknowledged
// outcome or refit is lost and none is recorded twice.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/net/llm_backend.hpp"
#include "endure/supervisors/atoms.hpp"
#include "escalation/learner.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

task<std::string> assess_then_wait(context& ctx, std::string input) {
  escalation::proposal p;
  p.task_type = "triage";
  p.input = std::move(input);
  p.confidence = 0.9;
  auto assessing = escalation::assess(ctx, "triage", p);
  auto a = co_await std::move(assessing);
  auto waiting = ctx.wait_signal<std::string>("go");
  co_await std::move(waiting);
  co_return escalation::to_json_text(a);
}

task<std::string> assess_bad(context& ctx, std::string) {
  escalation::proposal p;
  p.task_type = "triage";
  p.input = "x";
  p.embedding = {1.0f, 2.0f};  // not the matrix's width
  auto assessing = escalation::assess(ctx, "triage", p);
  co_await std::move(assessing);
  co_return "unreachable";
}

task<std::string> assess_and_record(context& ctx, std::string input) {
  auto p = learner_proposal(1);
  p.input = std::move(input);
  auto assessing = escalation::assess(ctx, "triage", p);
  auto a = co_await std::move(assessing);
  auto recording = escalation::record_outcome(ctx, "triage", a, p, 1.0);
  co_return (co_await std::move(recording)) ? "recorded" : "not recorded";
}

task<std::string> assess_embedded(context& ctx, std::string input) {
  escalation::proposal p;
  p.task_type = "triage";
  p.input = std::move(input);
  p.confidence = 0.9;
  auto assessing = escalation::assess(ctx, "triage", p, std::nullopt,
                                      escalation::embedding_source::model);
  auto a = co_await std::move(assessing);
  co_return escalation::to_json_text(a);
}

/// A model whose embedding calls follow a script, one entry per call:
/// `silent` never answers (a backend breaking its promise to answer by its
/// deadline) until the model is released, `failing` answers a retryable
/// failure, `answering` a vector of 32 (learner_options' width). It notes
/// the attempt number each call carried.
class scripted_embedder : public net::llm_backend {
public:
  enum class reply { silent, failing, answering };
  explicit scripted_embedder(std::vector<reply> script) : script_(std::move(script)) {}
  ~scripted_embedder() override { release(); }

  const std::string& name() const noexcept override { return name_; }
  void chat(net::chat_request, chat_callback done) override {
    done(net::make_failure(failure_class::fatal, "scripted_embedder: no chat"));
  }
  void embed(net::embedding_request request, embed_callback done) override {
    std::unique_lock lock{mutex_};
    attempts_.push_back(request.attempt);
    auto r = attempts_.size() <= script_.size() ? script_[attempts_.size() - 1] : reply::answering;
    if (r == reply::silent) {
      held_.push_back(std::move(done));
      return;
    }
    lock.unlock();
    if (r == reply::failing)
      return done(net::make_failure(failure_class::retryable, "scripted_embedder: 503"));
    net::embedding_response answer;
    answer.vectors = {std::vector<float>(32, 0.5f)};
    done(std::move(answer));
  }
  std::chrono::milliseconds default_timeout() const noexcept override { return 100ms; }

  /// Answers the calls it held (as a backend being destroyed does).
  void release() {
    std::vector<embed_callback> held;
    {
      std::lock_guard lock{mutex_};
      held.swap(held_);
    }
    for (auto& done : held)
      done(net::make_failure(failure_class::retryable, "scripted_embedder: released"));
  }
  std::vector<std::uint32_t> attempts() const {
    std::lock_guard lock{mutex_};
    return attempts_;
  }

private:
  std::string name_ = "scripted_embedder";
  std::vector<reply> script_;
  mutable std::mutex mutex_;
  std::vector<std::uint32_t> attempts_;
  std::vector<embed_callback> held_;
};

/// Answers the calls `model` held before the runtime declared before it
/// shuts down (so a blocked activity thread cannot hang the test's end).
struct release_at_end {
  std::shared_ptr<scripted_embedder> model;
  ~release_at_end() { model->release(); }
};

void workflows(workflow_registry& r) {
  r.add("assess_embedded", &assess_embedded);
  r.add("assess_then_wait", &assess_then_wait);
  r.add("assess_bad", &assess_bad);
  r.add("assess_and_record", &assess_and_record);
}

void with_escalation(runtime_options& o) {
  o.escalation = std::make_shared<escalation::escalation_options>(learner_options());
}

/// with_escalation, `model` as the runtime's model.
std::function<void(runtime_options&)> with_escalation_and(std::shared_ptr<net::llm_backend> model) {
  return [model](runtime_options& o) {
    with_escalation(o);
    o.llm = model;
  };
}

std::size_t rows_in(const journal& j, side_table t) {
  auto n = j.count_rows(t, "");
  REQUIRE(n);
  return *n;
}

std::size_t completed_steps_named(runtime_fixture& f, const std::string& run,
                                  const std::string& name) {
  std::size_t n = 0;
  for (auto& e : f.events<step_completed_event>(run))
    n += e.name == name;
  return n;
}

/// The escalation actor of the runtime `f`, asked directly.
std::string ask_actor(caf::actor_system& sys, runtime& rt, const std::string& key,
                      const std::string& body) {
  caf::scoped_actor self{sys};
  caf::actor actor;
  self->request(rt.supervisor(), 5s, find_child_atom::value, std::string{"escalation"})
    .receive([&](caf::actor& a) { actor = a; }, [&](caf::error&) {});
  REQUIRE(actor);
  std::string out;
  self->request(actor, 5s, atoms::esc_assess::value, key, body)
    .receive([&](std::string& text) { out = text; },
             [&](caf::error& e) { out = "error: " + sys.render(e); });
  return out;
}

} // namespace

SCENARIO("an assessment is journaled with its breakdown, and a replay does not ask again",
         "[escalation][actor]") {
  runtime_fixture f{workflows, with_escalation};
  REQUIRE(f.rt().start("assess_then_wait", "a1", std::string{"a router that drops packets"}));
  REQUIRE(f.await_status("a1", run_status::waiting));
  CHECK(rows_in(f.rt().store(), side_table::escalation_inputs) == 1);
  CHECK(completed_steps_named(f, "a1", "escalate:triage") == 1);
  f.reopen();  // the run resumes: its assess step replays from the journal
  REQUIRE(f.rt().signal("a1", "go", std::string{}));
  auto out = f.ended("a1", 10s);
  REQUIRE(out.status == run_status::completed);
  auto a = escalation::assessment_from_json(out.value<std::string>());
  REQUIRE(a);
  CHECK(a->input_id == 1);
  CHECK(a->decision_key == "a1/0");
  CHECK(a->features.novelty == 1);  // the first input of its type
  CHECK_FALSE(a->reason.empty());
  CHECK(rows_in(f.rt().store(), side_table::escalation_inputs) == 1);
  CHECK(completed_steps_named(f, "a1", "escalate:triage") == 1);
}

SCENARIO("one decision key gets one answer and one stored input", "[escalation][actor]") {
  runtime_fixture f{workflows, with_escalation};
  auto body = escalation::to_json_text(learner_proposal(3));
  auto first = ask_actor(f.sys(), f.rt(), "r/7", body);
  auto again = ask_actor(f.sys(), f.rt(), "r/7", body);
  auto other = ask_actor(f.sys(), f.rt(), "r/8", body);
  REQUIRE(escalation::assessment_from_json(first));
  CHECK(again == first);
  CHECK(escalation::assessment_from_json(other)->input_id == 2);
  f.reopen();  // the answer is kept in the journal, not only in memory
  CHECK(ask_actor(f.sys(), f.rt(), "r/7", body) == first);
  CHECK(rows_in(f.rt().store(), side_table::escalation_inputs) == 2);
  auto refused = ask_actor(f.sys(), f.rt(), "r/9", R"({"task_type": 5})");
  CHECK_THAT(refused, Catch::Contains("proposal: task_type: must be a string"));
}

SCENARIO("runs whose ids are not UTF-8 each record their own outcome",
         "[escalation][actor]") {
  // Run ids are bytes (no NUL, at most 200): "caf\xe9" and "caf\xe8" are
  // Latin-1 ids a legacy system may use. Their decisions are two decisions.
  runtime_fixture f{workflows, with_escalation};
  for (std::string id : {"caf\xe9", "caf\xe8"}) {
    REQUIRE(f.rt().start("assess_and_record", id, std::string{"an order"}));
    auto out = f.ended(id, 20s);
    REQUIRE(out.status == run_status::completed);
    CHECK(out.value<std::string>() == "recorded");
  }
  CHECK(rows_in(f.rt().store(), side_table::escalation_outcomes) == 2);
}

SCENARIO("a proposal the actor refuses fails its step with the actor's words",
         "[escalation][actor]") {
  runtime_fixture f{workflows, with_escalation};
  REQUIRE(f.rt().start("assess_bad", "b1", std::string{}));
  auto out = f.ended("b1", 10s);
  REQUIRE(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("run b1, step 'escalate:triage'") &&
                          Catch::Contains("width"));
}

SCENARIO("without runtime_options::escalation the step fails and says what to set",
         "[escalation][actor]") {
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("assess_then_wait", "n1", std::string{"x"}));
  auto out = f.ended("n1", 10s);
  REQUIRE(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("runtime_options::escalation"));
  CHECK(f.events<step_failed_event>("n1").size() == 1);  // fatal: not retried
}

SCENARIO("the model's embedding step: a failed call is retried as the next attempt, a silent "
         "one ends by the backend's deadline", "[escalation][actor]") {
  using reply = scripted_embedder::reply;
  GIVEN("a model whose first embedding call fails (retryable)") {
    auto model = std::make_shared<scripted_embedder>(std::vector{reply::failing});
    runtime_fixture f{workflows, with_escalation_and(model)};
    release_at_end guard{model};
    REQUIRE(f.rt().start("assess_embedded", "e1", std::string{"a router that drops packets"}));
    auto out = f.ended("e1", 10s);
    REQUIRE(out.status == run_status::completed);
    THEN("the retry tells the model it is attempt 1 (the sim draws its faults anew by it)") {
      CHECK(model->attempts() == std::vector<std::uint32_t>{0, 1});
    }
  }
  GIVEN("a model that never answers its first embedding call") {
    auto model = std::make_shared<scripted_embedder>(std::vector{reply::silent});
    runtime_fixture f{workflows, with_escalation_and(model)};
    release_at_end guard{model};
    REQUIRE(f.rt().start("assess_embedded", "e2", std::string{"a router that drops packets"}));
    THEN("the attempt ends by the backend's deadline (plus a grace) and the retry completes") {
      auto out = f.ended("e2", 8s);
      REQUIRE(out.status == run_status::completed);
      CHECK(model->attempts().size() == 2);
      auto failed = f.events<step_failed_event>("e2");
      REQUIRE(failed.size() == 1);
      CHECK_THAT(failed[0].message,
                 Catch::Contains("step 'escalate:triage/embedding'") &&
                   Catch::Contains("did not answer"));
    }
  }
}

SCENARIO("kill -9 while learning loses no acknowledged outcome or refit and records none twice",
         "[escalation][actor][crash]") {
  auto restore = [](const std::string& dir) {
    auto j = journal::open({.data_dir = dir});
    REQUIRE(j);
    register_event_types((*j)->types());
    escalation::matrix m(learner_options().matrix);
    escalation::matrix_store rows(**j, learner_options().store);
    auto report = rows.restore(m);
    REQUIRE(report);
    return std::make_tuple(*report, m.labels(), m.model_version(),
                           rows_in(**j, side_table::escalation_inputs));
  };
  // The same run without a kill: what the killed one must end up with.
  temp_dir straight;
  {
    child_process child({ESCALATION_CHILD_PATH, straight.path()});
    auto lines = child.read_all(60s);
    REQUIRE(child.wait(10s) == 0);
    REQUIRE_FALSE(lines.empty());
    REQUIRE_THAT(lines.back(), Catch::StartsWith("done "));
  }
  auto [want, want_labels, want_version, want_inputs] = restore(straight.path());
  REQUIRE(want_labels > 20);
  REQUIRE(want_version >= 3);
  CHECK(want_inputs == learner_decisions);

  temp_dir dir;
  int acknowledged = -1;
  for (int kill_after : {4, 14}) {
    child_process child({ESCALATION_CHILD_PATH, dir.path()});
    int seen = 0;
    while (seen < kill_after) {
      auto line = child.read_line(30s);
      REQUIRE(line);
      if (line->rfind("recorded ", 0) == 0) {
        ++seen;
        acknowledged = std::max(acknowledged, std::stoi(line->substr(9)));
      }
    }
    child.kill_hard();
    auto [report, labels, version, inputs] = restore(dir.path());
    INFO("killed after decision " << acknowledged);
    // Every outcome acknowledged before the kill is there (a replay prints
    // its decisions again, so `seen` counts each at least once).
    CHECK(report.damaged_rows == 0);
    CHECK(labels >= static_cast<std::size_t>(seen));
    CHECK(inputs >= static_cast<std::size_t>(acknowledged + 1));
  }
  child_process child({ESCALATION_CHILD_PATH, dir.path()});
  auto lines = child.read_all(60s);
  REQUIRE(child.wait(10s) == 0);
  REQUIRE_THAT(lines.back(), Catch::StartsWith("done "));
  auto [got, labels, version, inputs] = restore(dir.path());
  CHECK(labels == want_labels);      // none lost, none twice
  CHECK(version == want_version);    // every refit, once
  CHECK(got.refit_version == want.refit_version);
  CHECK(inputs == want_inputs);
}
