// run_agent with the policy gate and ask_human, over the sim, a real runtime
// and LMDB. Several gated calls of one model turn are each in the inbox at
// once, none runs (gated or not) before every one is decided, a rejected
// one never runs and the model reads its rejection, and a restart while
// some are decided loses and repeats nothing. (ask_human as a tool:
// ask_human_tool_test.cpp.)
#include <catch2/catch.hpp>

#include "agent/agent_gates_support.hpp"


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

  // A signal someone forged for the third wakes the run: it reads the row
  // (the only call that needs to: the others took their outcome from the
  // gateway's signal), finds it pending, and the turn waits on (fail closed).
  gateway::request_outcome forged{gateway::decision::approve, {"ann"}, 1, "forged", {}, {}, {}};
  REQUIRE(f.rt().signal("t1", gateway::decision_signal(mail), gateway::outcome_payload(forged)));
  await_idle(f, "t1", {"decision:send_email"});
  auto read = steps_of(f, "t1");
  CHECK(count_of(read, "decision:publish") == 0);
  CHECK(count_of(read, "decision:delete_file") == 0);
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
SCENARIO("two gated calls of one tool replay after a signal someone forged for one of them",
         "[agent][gates][restart]") {
  // The first call takes its outcome from the gateway's signal (no step);
  // the second, woken by a forged signal, reads its row in a step named
  // like the one the first would have journaled in an earlier build. A
  // replay must tell them apart (by the step's input: the request id) and
  // not quarantine the run.
  fresh({{"call_1", "publish", R"({"target": "first"})"},
         {"call_2", "publish", R"({"target": "second"})"}});
  runtime_fixture f{workflows, gated};
  REQUIRE(f.rt().start("three_gated", "t7", std::string{"two posts"}));
  REQUIRE(eventually([&] { return pending_count(f, "t7") == 2; }));
  auto raised = requests_of(f, "t7");
  REQUIRE(raised.size() == 2);
  gateway::request_outcome forged{gateway::decision::approve, {"ann"}, 1, "forged", {}, {}, {}};
  REQUIRE(f.rt().decide(raised[0].id, "ann", "approve"));
  REQUIRE(f.rt().signal("t7", gateway::decision_signal(raised[1].id),
                        gateway::outcome_payload(forged)));
  await_idle(f, "t7", {"decision:publish"});
  CHECK(count_of(steps_of(f, "t7"), "decision:publish") == 1);  // the forged one's read
  CHECK(published == 0);

  f.reopen();  // the replay meets both waits again
  REQUIRE(f.await_status("t7", run_status::waiting));
  REQUIRE(f.rt().decide(raised[1].id, "bob", "approve"));
  // Both approved calls run (the sim then goes on to a turn of its own).
  REQUIRE(eventually([&] { return published == 2; }));
  auto meta = f.rt().store().run("t7");
  REQUIRE(meta);
  INFO(meta->detail);
  CHECK(meta->status != run_status::quarantined);
}
