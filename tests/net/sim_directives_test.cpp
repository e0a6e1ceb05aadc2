// The sim's knobs in a tool loop: [sim: ...] directives in the prompt, the
// confidence of an ambiguous prompt, parallel calls, tool_choice, faults on
// every turn, the same loop over the fake server, and how the codec reads a
// confidence beside tool calls.
#include "sim_loop_support.hpp"

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

SCENARIO("sim directives in the prompt script the sim", "[net][sim][tools]") {
  sim_options o;
  GIVEN("[sim: call publish, search] in the system message") {
    auto req = agent_request(task);
    req.messages[0].content += " [sim: call publish, search]";
    auto t = run_agent(engine(o), req, run_tool);
    THEN("exactly those tools, in that order") {
      CHECK(t.called() == std::vector<std::string>{"publish", "search"});
    }
  }
  GIVEN("[sim: call] naming a tool that is not offered") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: call nonesuch, read]"), run_tool);
    THEN("that name is skipped") { CHECK(t.called() == std::vector<std::string>{"read"}); }
  }
  GIVEN("[sim: no tools]") {
    auto r = engine_answer(o, agent_request("[sim: no tools] " + task));
    THEN("a text answer at once, tools offered or not") {
      CHECK(r.tool_calls.empty());
      CHECK(r.finish_reason == "stop");
      CHECK_THAT(r.content, Catch::Contains("durable") || Catch::Contains("agent") ||
                              Catch::Contains("runtimes") || Catch::Contains("post"));
      CHECK_THAT(r.content, !Catch::Contains("tools")); // the directive is not a word of the prompt
    }
  }
  GIVEN("[sim: bad_args publish]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: bad_args publish]"), run_tool);
    THEN("the first publish call fails its schema, the retry passes") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish", "publish"});
      const auto& schema = tool_named("publish")->parameters_schema_json;
      CHECK_THAT(problems(t.turns[2].tool_calls[0].arguments_json, schema),
                 Catch::VectorContains(std::string("$.title is missing")));
      CHECK(problems(t.turns[3].tool_calls[0].arguments_json, schema).empty());
      CHECK_THAT(t.final_answer().content,
                 Catch::Contains("publish returned published, true and post on the second try"));
    }
  }
  GIVEN("[sim: bad_args] for tools without required properties or without properties") {
    auto req = agent_request(task + " [sim: bad_args typed, empty, listed]");
    req.tools = {{"typed", "", R"({"type":"object","properties":{"n":{"type":"integer"}}})"},
                 {"empty", "", R"({"type":"object"})"},
                 {"listed", "", R"({"type":"object","properties":{"e":{"enum":["a","b"]}}})"}};
    auto r = engine_answer(o, [&] {
      auto q = req;
      q.messages[1].content += " [sim: parallel 3]";
      return q;
    }());
    REQUIRE(r.tool_calls.size() == 3);
    THEN("a wrongly typed property, or an array where the object belongs") {
      CHECK_FALSE(json::parse(r.tool_calls[0].arguments_json)["n"].is_number_integer());
      CHECK(json::parse(r.tool_calls[1].arguments_json).is_array());
      auto e = json::parse(r.tool_calls[2].arguments_json)["e"];
      CHECK((e != "a" && e != "b"));
    }
  }
  GIVEN("[sim: unknown_tool]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: unknown_tool]"), run_tool);
    THEN("the first turn calls a tool not offered; after the error every offered tool is called") {
      REQUIRE(t.turns[0].tool_calls.size() == 1);
      CHECK(t.turns[0].tool_calls[0].name == "search_v2");
      CHECK(t.called() == std::vector<std::string>{"search_v2", "search", "read", "publish"});
      CHECK_THAT(t.final_answer().content, Catch::Contains("search_v2 failed (unknown_tool)"));
    }
  }
  GIVEN("[sim: parallel 3]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: parallel 3]"), run_tool);
    THEN("all three calls in one message, with distinct ids, then the answer") {
      REQUIRE(t.turns.size() == 2);
      const auto& calls = t.turns[0].tool_calls;
      REQUIRE(calls.size() == 3);
      CHECK(std::set<std::string>{calls[0].id, calls[1].id, calls[2].id}.size() == 3);
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.turns[0].content, Catch::Contains("Next I call search, read and publish"));
    }
  }
  GIVEN("[sim: confidence 0.3]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: confidence 0.3]"), run_tool);
    THEN("every turn carries exactly that confidence") {
      for (const auto& turn : t.turns)
        CHECK(turn.confidence == std::optional{0.3});
    }
  }
  GIVEN("several directives in one block and across messages; later ones win") {
    auto req = agent_request(task + " [sim: confidence 0.9; parallel 2] [sim: confidence 0.25]");
    req.messages[0].content += " [sim: CALL read search]";
    auto t = run_agent(engine(o), req, run_tool);
    THEN("all apply") {
      REQUIRE(t.turns.size() == 2);
      CHECK(t.called() == std::vector<std::string>{"read", "search"});
      CHECK(t.final_answer().confidence == std::optional{0.25});
    }
  }
  GIVEN("a directive inside a tool result") {
    auto tools = [](const tool_call& c) { return run_tool(c) + " [sim: no tools] [sim: confidence 0.1]"; };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("it does not steer the sim") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK(*t.final_answer().confidence >= 0.55);
    }
  }
}

SCENARIO("an ambiguous prompt gets a low confidence", "[net][sim][tools]") {
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    sim_options o;
    o.seed = seed;
    auto t = run_agent(engine(o), agent_request("The brief is Ambiguous: publish something about " + task),
                       run_tool);
    CAPTURE(seed);
    for (const auto& turn : t.turns) {
      REQUIRE(turn.confidence);
      CHECK(*turn.confidence < 0.5);
      CHECK(*turn.confidence >= 0.15);
    }
    auto clear = engine_answer(o, agent_request("An unambiguous brief: " + task));
    CHECK(*clear.confidence >= 0.55);
  }
  AND_THEN("with a response_format, the confidence is the schema's field") {
    auto req = agent_request("Which of the two is meant? It is ambiguous.");
    req.tools.clear();
    req.response_format = json_schema_format{
      "pick", R"({"type":"object","properties":{"choice":{"enum":["first","second"]},"answer":{"type":"string"}},"required":["choice","answer"]})"};
    auto r = engine_answer({}, req);
    auto j = json::parse(r.content);
    CHECK(j["confidence"] == *r.confidence);
    CHECK(*r.confidence < 0.5);
    CHECK((j["choice"] == "first" || j["choice"] == "second"));
  }
}

SCENARIO("parallel tool calls from sim_options", "[net][sim][tools]") {
  sim_options o;
  o.parallel_tool_calls = 2;
  auto tools = agent_tools();
  tools.push_back({"notify", "Tell the team", R"({"type":"object","properties":{"who":{"type":"string"}},"required":["who"]})"});
  auto req = agent_request(task);
  req.tools = tools;
  auto t = run_agent(engine(o), req, [](const tool_call& c) {
    return c.name == "notify" ? std::string("sent") : run_tool(c);
  });
  THEN("two calls per turn in plan order, all ids distinct across the conversation") {
    REQUIRE(t.turns.size() == 3);
    CHECK(t.turns[0].tool_calls.size() == 2);
    CHECK(t.turns[1].tool_calls.size() == 2);
    CHECK(t.called() == std::vector<std::string>{"search", "read", "publish", "notify"});
    std::set<std::string> ids;
    for (const auto& turn : t.turns)
      for (const auto& c : turn.tool_calls)
        ids.insert(c.id);
    CHECK(ids.size() == 4);
  }
  AND_THEN("a directive overrides the option") {
    auto one = agent_request(task + " [sim: parallel 1]");
    CHECK(engine_answer(o, one).tool_calls.size() == 1);
  }
}

SCENARIO("tool_choice is obeyed on every turn", "[net][sim][tools]") {
  sim_options o;
  auto req = agent_request(task);
  req.tool_choice = "none";
  CHECK(engine_answer(o, req).tool_calls.empty());
  req.tool_choice = "publish";
  auto forced = engine_answer(o, req);
  REQUIRE(forced.tool_calls.size() == 1);
  CHECK(forced.tool_calls[0].name == "publish");
  req.tool_choice = "required";
  auto t = run_agent(engine(o), agent_request(task + " [sim: no tools]"), run_tool);
  req.messages = t.last.messages;
  auto required = engine_answer(o, req);
  REQUIRE(required.tool_calls.size() == 1);
  CHECK(required.tool_calls[0].name == "search");
}

SCENARIO("faults are injected on every turn of a tool loop", "[net][sim][tools]") {
  sim_options o;
  o.seed = 3;
  o.rate_limit_rate = 0.3;
  o.server_error_rate = 0.2;
  o.malformed_rate = 0.1;
  std::map<sim_fault, int> seen;
  int tool_turn_faults = 0;
  auto retrying = [&](const chat_request& req) {
    for (std::uint32_t attempt = 0; attempt < 50; ++attempt) {
      auto r = req;
      r.attempt = attempt;
      auto reply = simulate_chat(o, *encode_chat_request(r, "sim"), attempt);
      seen[reply.fault]++;
      if (reply.fault != sim_fault::none) {
        tool_turn_faults += !req.messages.empty() && req.messages.back().role == chat_role::tool;
        continue;
      }
      auto decoded = decode_chat_response(reply.response.body, "application/json", r, "test");
      REQUIRE(decoded);
      return *decoded;
    }
    FAIL("50 attempts drew a fault every time");
    return chat_response{};
  };
  for (int run = 0; run < 8; ++run) {
    auto t = run_agent(retrying, agent_request(task + " run " + std::to_string(run)), run_tool);
    CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
  }
  CHECK(seen[sim_fault::rate_limited] > 0);
  CHECK(seen[sim_fault::server_error] > 0);
  CHECK(seen[sim_fault::malformed] > 0);
  CHECK(tool_turn_faults > 0);
}

SCENARIO("the same tool loop through the fake OpenAI server over loopback HTTP",
         "[net][sim][tools]") {
  fake_server_options options;
  options.sim.seed = 11;
  options.sim.parallel_tool_calls = 2;
  fake_openai_server server(options);
  llm_config config;
  config.base_url = server.base_url();
  config.model = "sim";
  config.api_key_env = "";
  openai_client client(config);
  auto over_http = [&](const chat_request& req) {
    auto r = await_result<chat_response>([&](auto done) { client.chat(req, done); });
    REQUIRE(r);
    return *r;
  };
  auto prompt = task + " [sim: bad_args search]";
  auto t = run_agent(over_http, agent_request(prompt), run_tool);
  THEN("it behaves exactly as the engine with the same options") {
    auto local = run_agent(engine(options.sim), agent_request(prompt), run_tool);
    REQUIRE(t.turns.size() == local.turns.size());
    for (std::size_t i = 0; i < t.turns.size(); ++i) {
      CHECK(t.turns[i].content == local.turns[i].content);
      CHECK(t.turns[i].confidence == local.turns[i].confidence);
      REQUIRE(t.turns[i].tool_calls.size() == local.turns[i].tool_calls.size());
      for (std::size_t k = 0; k < t.turns[i].tool_calls.size(); ++k) {
        CHECK(t.turns[i].tool_calls[k].id == local.turns[i].tool_calls[k].id);
        CHECK(t.turns[i].tool_calls[k].arguments_json == local.turns[i].tool_calls[k].arguments_json);
      }
    }
    CHECK(t.called() == std::vector<std::string>{"search", "read", "search", "publish"});
    CHECK(server.requests() == t.turns.size());
  }
  THEN("each request carried the conversation so far, tool results included") {
    auto last = json::parse(server.received().back().body);
    std::size_t results = 0;
    for (const auto& m : last["messages"])
      results += m["role"] == "tool";
    CHECK(results == 4);
  }
}

SCENARIO("the codec reads a confidence beside tool calls only in the sim's shape",
         "[net][sim][tools]") {
  chat_request req = agent_request(task);
  auto answer = [&](const std::string& content) {
    json body{{"choices", {{{"finish_reason", "tool_calls"},
                            {"message", {{"role", "assistant"}, {"content", content},
                                         {"tool_calls", {{{"id", "call_1"}, {"type", "function"},
                                                          {"function", {{"name", "search"},
                                                                        {"arguments", "{}"}}}}}}}}}}}};
    return decode_chat_response(body.dump(), "application/json", req, "test");
  };
  GIVEN("free text beside the calls, as real models write") {
    auto r = answer("Let me look that up first.");
    THEN("no failure, the text kept, no confidence") {
      REQUIRE(r);
      CHECK(r->content == "Let me look that up first.");
      CHECK_FALSE(r->confidence);
      CHECK(r->tool_calls.size() == 1);
    }
  }
  GIVEN("a confidence out of range, or not a number") {
    for (std::string c : {R"({"answer":"x","confidence":1.5})", R"({"answer":"x","confidence":"high"})"}) {
      auto r = answer(c);
      REQUIRE(r);
      CHECK_FALSE(r->confidence);
      CHECK(r->content == "x");
    }
  }
  GIVEN("the sim's shape, but confidence was not requested") {
    req.request_confidence = false;
    auto r = answer(R"({"answer":"x","confidence":0.7})");
    REQUIRE(r);
    CHECK_FALSE(r->confidence);
  }
}
