// The `sim` model as the brain of an agent loop: given the conversation so
// far it calls the offered tools it has not called yet, with arguments that
// validate against their schemas, acts on structured errors and
// rejections, obeys `[sim: ...]` directives, carries a confidence on every
// turn, and then answers with what the tools gave. The loop is driven by
// hand here (call the sim, run fake tools, call again), through the engine,
// the in-process sim_model and the fake server over loopback HTTP.
#include "sim_loop_support.hpp"

#include <algorithm>

#include "endure/actors/agent/ask_human_tool.hpp"
#include "endure/actors/agent/json_schema.hpp"

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

// -- unhappy paths first -----------------------------------------------------------

SCENARIO("malformed directives, results and schemas never break the sim", "[net][sim][tools]") {
  sim_options o;
  GIVEN("directives it does not understand") {
    for (std::string junk : {"[sim: fly away]", "[sim: parallel zero]", "[sim: parallel 0]",
                             "[sim: parallel -2]", "[sim: confidence 7]", "[sim: confidence nan]",
                             "[sim: confidence 0.3x]", "[sim:]", "[sim: ;;]", "[sim: call]",
                             "[sim: bad_args]", "[sim: confidence 0.2", "[sim", "[[sim: no]",
                             "[ SIM : parallel 99999999999999999999999]"}) {
      CAPTURE(junk);
      auto r = engine_answer(o, agent_request(task + " " + junk));
      THEN("the sim behaves as without them: one call of the first tool, a normal confidence") {
        REQUIRE(r.tool_calls.size() == 1);
        CHECK(r.tool_calls[0].name == "search");
        REQUIRE(r.confidence);
        CHECK(*r.confidence >= 0.55);
      }
    }
  }
  GIVEN("tool results that are not JSON, not objects, or errors of odd shapes") {
    auto tools = [](const tool_call& c) -> std::string {
      if (c.name == "search") return "<html>not json</html>";
      if (c.name == "read") return R"({"error": null, "text": "fine after all"})";
      return R"({"error": 5})";
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("text and a null error are results, any other error a failure it goes on from") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.final_answer().content, Catch::Contains("search returned html") &&
                                             Catch::Contains("read returned error, null and text") &&
                                             Catch::Contains("publish failed (error)"));
    }
  }
  GIVEN("a result quoting no call, and one for a call id that never existed") {
    auto req = agent_request(task);
    req.messages.push_back(chat_message::tool_result("call_nobody", "stray"));
    auto r = engine_answer(o, req);
    THEN("it is ignored: the plan starts from the first tool") {
      REQUIRE(r.tool_calls.size() == 1);
      CHECK(r.tool_calls[0].name == "search");
    }
  }
  GIVEN("a tool whose parameters are not an object schema, or are empty") {
    auto req = agent_request(task);
    req.tools = {{"odd", "", R"({"type":"array","items":{"type":"integer"}})"}, {"bare", "", "{}"},
                 {"nameless_required", "", R"({"type":"object","required":["ghost"]})"}};
    auto t = run_agent(engine(o), req, [](const tool_call&) { return std::string("ok"); });
    THEN("arguments still follow what the schema says") {
      REQUIRE(t.turns.size() == 4);
      CHECK(json::parse(t.turns[0].tool_calls[0].arguments_json).is_array());
      CHECK(json::parse(t.turns[1].tool_calls[0].arguments_json).is_object());
      CHECK(json::parse(t.turns[2].tool_calls[0].arguments_json).contains("ghost"));
    }
  }
}

SCENARIO("a structured error is acted on", "[net][sim][tools]") {
  sim_options o;
  GIVEN("a rejection of publish") {
    auto tools = [](const tool_call& c) {
      if (c.name == "publish")
        return std::string(R"({"error":"rejected","reason":"the editor wants sources cited"})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("publish is never called again and the answer says why it was left undone") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.final_answer().content,
                 Catch::Contains("publish was rejected (the editor wants sources cited)") &&
                   Catch::Contains("did not call it again"));
      CHECK(t.final_answer().finish_reason == "stop");
    }
    AND_WHEN("the agent keeps offering publish on later turns") {
      auto again = t.last;
      again.messages.push_back(chat_message::user("Anything else?"));
      auto r = engine_answer(o, again);
      THEN("it still does not call it") { CHECK(r.tool_calls.empty()); }
    }
  }
  GIVEN("invalid_arguments from the agent's own check, every time") {
    auto tools = [](const tool_call& c) {
      if (c.name == "read")
        return std::string(R"({"error":"invalid_arguments","problems":["url: host not allowed"]})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("read is retried once with regenerated arguments, then left out") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "read", "publish"});
      CHECK(t.turns[1].tool_calls[0].arguments_json != t.turns[2].tool_calls[0].arguments_json);
      CHECK(problems(t.turns[2].tool_calls[0].arguments_json,
                     tool_named("read")->parameters_schema_json).empty());
      CHECK_THAT(t.turns[2].content, Catch::Contains("read again, with corrected arguments"));
      CHECK_THAT(t.final_answer().content,
                 Catch::Contains("read failed (invalid_arguments) twice, so I went on without it"));
    }
  }
  GIVEN("unknown_tool for an offered tool (the agent disabled it)") {
    auto tools = [](const tool_call& c) {
      if (c.name == "search")
        return std::string(R"({"error":{"code":"unknown_tool","message":"search is off"}})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("it is retried once too (the error's code read from an error object)") {
      CHECK(t.called() == std::vector<std::string>{"search", "search", "read", "publish"});
    }
  }
  GIVEN("any other error") {
    auto tools = [](const tool_call& c) {
      if (c.name == "search")
        return std::string(R"({"error":"timeout","message":"upstream took too long"})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("the sim goes on without that tool, no retry") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.final_answer().content, Catch::Contains("search failed (timeout), so I went on"));
    }
  }
}

// -- asking a person (the built-in ask_human tool) ------------------------------------

namespace {

/// The agent's tools plus ask_human, offered exactly as run_agent offers it.
chat_request asking_request(const std::string& prompt) {
  auto req = agent_request(prompt);
  const auto& ask = endure::agent::ask_human_definition();
  req.tools.insert(req.tools.begin(), {ask.name, ask.description, ask.parameters.dump()});
  return req;
}

/// Tools that answer ask_human as a person would.
std::string with_answers(const tool_call& c) {
  if (c.name == "ask_human")
    return R"({"answer":"for engineers"})";
  return run_tool(c);
}

} // namespace

SCENARIO("the sim asks a person only when it is unsure: first and once", "[net][sim][tools]") {
  // Plain checks in the loops: a Catch2 section repeated in a loop runs once.
  sim_options o;
  GIVEN("ask_human offered to a sim that is sure of itself") {
    for (std::string prompt : {task, task + " [sim: confidence 0.5]",
                               task + " [sim: confidence 0.98]", task + " [sim: parallel 4]"}) {
      CAPTURE(prompt);
      auto t = run_agent(engine(o), asking_request(prompt), with_answers);
      // it never calls it
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      REQUIRE(t.final_answer().confidence);
      CHECK(*t.final_answer().confidence >= 0.5);
    }
  }
  GIVEN("an unsure sim told to call no tools, or offered no ask_human") {
    auto quiet = run_agent(engine(o), asking_request("An ambiguous ask [sim: no tools]"),
                           with_answers);
    auto unoffered = run_agent(engine(o), agent_request("An ambiguous ask"), with_answers);
    THEN("it does not ask either") {
      CHECK(quiet.called().empty());
      CHECK(unoffered.called() == std::vector<std::string>{"search", "read", "publish"});
    }
  }
  GIVEN("a prompt that says it is ambiguous, or a confidence under 0.5") {
    for (std::string prompt : {std::string{"Write about keyword X: the intent is ambiguous"},
                               task + " [sim: confidence 0.49]",
                               std::string{"An ambiguous ask [sim: parallel 3]"}}) {
      CAPTURE(prompt);
      auto t = run_agent(engine(o), asking_request(prompt), with_answers);
      // Its first turn is ask_human alone, then the plan, and it asks once.
      REQUIRE(t.turns.size() >= 2);
      REQUIRE(t.turns[0].tool_calls.size() == 1);
      CHECK(t.turns[0].tool_calls[0].name == "ask_human");
      auto called = t.called();
      CHECK(std::count(called.begin(), called.end(), "ask_human") == 1);
      CHECK(std::vector<std::string>(called.begin() + 1, called.end())
            == std::vector<std::string>{"search", "read", "publish"});
      REQUIRE(t.final_answer().confidence);
      CHECK(*t.final_answer().confidence < 0.5);
      CHECK_THAT(t.final_answer().content, Catch::Contains("ask_human returned"));
      // Its question validates against the offered schema.
      const auto& c = t.turns[0].tool_calls[0];
      CAPTURE(c.arguments_json);
      auto args = json::parse(c.arguments_json);
      CHECK(endure::agent::validate(endure::agent::ask_human_definition().parameters, args)
              .empty());
      CHECK_FALSE(args["question"].get<std::string>().empty());
    }
  }
  GIVEN("[sim: call ...] naming ask_human") {
    auto sure = run_agent(engine(o), asking_request(task + " [sim: call search, ask_human]"),
                          with_answers);
    auto unsure = run_agent(engine(o), asking_request("Ambiguous. [sim: call read, ask_human]"),
                            with_answers);
    THEN("it is called where the list puts it, sure or not") {
      CHECK(sure.called() == std::vector<std::string>{"search", "ask_human"});
      CHECK(unsure.called() == std::vector<std::string>{"read", "ask_human"});
    }
  }
  GIVEN("[sim: call ...] not naming it, and an unsure sim") {
    auto t = run_agent(engine(o), asking_request("Ambiguous. [sim: call read]"), with_answers);
    THEN("it still asks first") {
      CHECK(t.called() == std::vector<std::string>{"ask_human", "read"});
    }
  }
}

// -- the happy loop --------------------------------------------------------------------

SCENARIO("an agent loop driven by hand calls each tool once, then answers", "[net][sim][tools]") {
  sim_options o;
  o.seed = 11;
  sim_model model([&] {
    llm_config c;
    c.sim = o;
    return c;
  }());
  auto in_process = [&](const chat_request& req) {
    auto r = await_result<chat_response>([&](auto done) { model.chat(req, done); });
    REQUIRE(r);
    return *r;
  };
  auto t = run_agent(in_process, agent_request(task), run_tool);

  THEN("one tool per turn, in the order offered, then a final answer") {
    REQUIRE(t.turns.size() == 4);
    CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(t.turns[i].finish_reason == "tool_calls");
      CHECK(t.turns[i].model == "sim");
    }
    CHECK(t.final_answer().finish_reason == "stop");
  }
  THEN("every call's arguments validate against its tool's schema") {
    for (const auto& turn : t.turns)
      for (const auto& c : turn.tool_calls) {
        CAPTURE(c.name, c.arguments_json);
        CHECK(problems(c.arguments_json, tool_named(c.name)->parameters_schema_json).empty());
      }
  }
  THEN("the final answer mentions what each tool returned") {
    const auto& text = t.final_answer().content;
    CHECK_THAT(text, Catch::Contains("search returned found, three and articles") &&
                       Catch::Contains("read returned article, explains and journaling") &&
                       Catch::Contains("publish returned published, true and post"));
  }
  THEN("every turn carries the same confidence, in [0.55, 0.98]") {
    for (const auto& turn : t.turns) {
      REQUIRE(turn.confidence);
      CHECK(*turn.confidence == *t.final_answer().confidence);
    }
    CHECK(*t.final_answer().confidence >= 0.55);
    CHECK(*t.final_answer().confidence <= 0.98);
    CHECK_THAT(t.turns[0].content, Catch::StartsWith("Next I call search"));
  }
  THEN("the in-process model answers exactly as the engine does") {
    auto again = run_agent(engine(o), agent_request(task), run_tool);
    REQUIRE(again.turns.size() == t.turns.size());
    for (std::size_t i = 0; i < t.turns.size(); ++i) {
      CHECK(again.turns[i].content == t.turns[i].content);
      CHECK(again.turns[i].id == t.turns[i].id);
    }
  }
}

SCENARIO("the sim's turns are a function of seed, prompt, tools and history", "[net][sim][tools]") {
  auto bodies = [](sim_options o, const std::string& prompt) {
    std::vector<std::string> out;
    auto model = [&](const chat_request& req) {
      out.emplace_back();
      return engine_answer(o, req, &out.back());
    };
    run_agent(model, agent_request(prompt), run_tool);
    return out;
  };
  sim_options o;
  o.seed = 5;
  auto first = bodies(o, task);
  THEN("the same inputs give byte-identical answers on every turn") {
    CHECK(bodies(o, task) == first);
  }
  THEN("another seed changes them (ids, arguments, confidence)") {
    o.seed = 6;
    auto other = bodies(o, task);
    REQUIRE(other.size() == first.size());
    for (std::size_t i = 0; i < first.size(); ++i)
      CHECK(other[i] != first[i]);
  }
  THEN("arguments depend on the prompt's words") {
    auto r = engine_answer(o, agent_request("Find benchmarks of embedded key value stores"));
    auto query = json::parse(r.tool_calls.at(0).arguments_json)["query"].get<std::string>();
    CHECK_THAT(query, Catch::Contains("find") || Catch::Contains("benchmarks") || Catch::Contains("embedded") ||
                        Catch::Contains("value") || Catch::Contains("stores"));
  }
}

SCENARIO("generated arguments validate against their schemas for many prompts and seeds",
         "[net][sim][tools]") {
  int checked = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    sim_options o;
    o.seed = seed;
    o.parallel_tool_calls = 4;
    auto req = agent_request("Task " + std::to_string(seed * 7919) + ": " + task);
    req.tools.push_back(edge_tool());
    auto r = engine_answer(o, req);
    REQUIRE(r.tool_calls.size() == 4);
    for (const auto& c : r.tool_calls) {
      CAPTURE(seed, c.name, c.arguments_json);
      CHECK(problems(c.arguments_json, tool_named(c.name)->parameters_schema_json).empty());
      ++checked;
    }
  }
  CHECK(checked == 160);
}

// -- directives ------------------------------------------------------------------------
