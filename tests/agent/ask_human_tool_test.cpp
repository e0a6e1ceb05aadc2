// The built-in ask_human tool in run_agent, over the sim, a real runtime and
// LMDB: offered only when named; what a model gets wrong about it comes
// back as a tool error; size limits; a person's answer (one of the
// choices, when it gives any) is its result; agent_answer records from
// before questions and responded still read.
#include <catch2/catch.hpp>

#include "agent/agent_gates_support.hpp"

namespace {

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
  CHECK(count_of(steps, "decision:ask_human") == 0);  // the answer came with its signal
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
