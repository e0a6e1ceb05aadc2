// Workflow inputs as JSON, results as JSON: the msgpack <-> JSON bridge,
// what the registry knows of each workflow's input type, and `run` /
// `start` with typed workflows (structs, integers, arrays; workflows_cli)
// as a user types them, with and without serve.
#include <catch2/catch.hpp>

#include <signal.h>

#include <nlohmann/json.hpp>

#include "endure/actors/endure.hpp"
#include "cli/cli_runner.hpp"
#include "endure/cli/json_value.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

const std::string cli_bin = WORKFLOWS_CLI_PATH;

struct point {
  int x = 0;
  int y = 0;
  MSGPACK_DEFINE(x, y);
};

task<int> takes_point(context&, point p) {
  co_return p.x + p.y;
}
task<int> takes_text(context&, std::string) {
  co_return 0;
}
task<int> takes_numbers(context&, std::vector<std::int64_t>) {
  co_return 0;
}
task<int> takes_table(context&, std::map<std::string, std::string>) {
  co_return 0;
}
task<int> takes_maybe(context&, std::optional<double>) {
  co_return 0;
}

} // namespace

SCENARIO("msgpack values print as JSON", "[cli][json]") {
  auto json = [](const std::string& bytes) {
    auto j = cli::msgpack_to_json(bytes);
    REQUIRE(j);
    return *j;
  };
  CHECK(json(to_bytes(std::string{"say \"hi\"\n"})) == R"("say \"hi\"\n")");
  CHECK(json(to_bytes(-7)) == "-7");
  CHECK(json(to_bytes(2.5)) == "2.5");
  CHECK(json(to_bytes(true)) == "true");
  CHECK(json(nil_bytes()) == "null");
  CHECK(json(to_bytes(std::vector<std::vector<int>>{{1, 2}, {}})) == "[[1,2],[]]");
  CHECK(json(to_bytes(std::map<std::string, int>{{"a", 1}})) == R"({"a":1})");
  CHECK(json(to_bytes(std::map<int, std::string>{{1, "one"}})) == R"({"1":"one"})");
  CHECK(json(to_bytes(point{3, 4})) == "[3,4]");
  std::string raw{"\x00\xff\x10", 3};
  CHECK(json(to_bytes(msgpack::type::raw_ref(raw.data(), 3))) == R"("AP8Q")");  // base64
  CHECK(json(to_bytes(std::string{"bad \xff byte"})) == "\"bad \xEF\xBF\xBD byte\"");

  CHECK_FALSE(cli::msgpack_to_json("\xc1"));             // never used in msgpack
  CHECK_FALSE(cli::msgpack_to_json("\x92\x01"));         // an array missing an element
  CHECK_FALSE(cli::msgpack_to_json(to_bytes(1) + to_bytes(2)));  // two values
  CHECK_FALSE(cli::msgpack_to_json("\xdd\xff\xff\xff\xff"));  // claims 4 billion elements
}

SCENARIO("JSON text becomes msgpack that typed inputs decode", "[cli][json]") {
  auto bytes = cli::json_to_msgpack(R"({"b": [1, -2, 3.5], "a": "x", "n": null})");
  REQUIRE(bytes);
  CHECK(*cli::msgpack_to_json(*bytes) == R"({"a":"x","b":[1,-2,3.5],"n":null})");
  CHECK(from_bytes<int>(*cli::json_to_msgpack("42")) == 42);
  CHECK(from_bytes<std::string>(*cli::json_to_msgpack("\"text\"")) == "text");
  auto bad = cli::json_to_msgpack("{bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_argument);
  CHECK_THAT(bad.error().message, Catch::Contains("not valid JSON") && Catch::Contains("column 2"));
}

SCENARIO("the registry describes and checks each workflow's input", "[cli][json]") {
  workflow_registry r;
  r.add("point", &takes_point);
  r.add("text", &takes_text);
  r.add("numbers", &takes_numbers);
  r.add("table", &takes_table);
  r.add("maybe", &takes_maybe);
  CHECK(r.input("nothing") == nullptr);
  CHECK(r.input("text")->type == "a string");
  CHECK(r.input("numbers")->type == "an array of integers");
  CHECK(r.input("table")->type == "an object whose values are each a string");
  CHECK(r.input("maybe")->type == "a number, or null");
  CHECK_THAT(r.input("point")->type, Catch::Contains("C++ type point ("));

  auto fits = [&](const char* workflow, const char* json) {
    return r.input(workflow)->decodes(*cli::json_to_msgpack(json));
  };
  CHECK(fits("point", "[1, 2]"));
  CHECK_FALSE(fits("point", R"({"x": 1, "y": 2})"));  // MSGPACK_DEFINE is an array
  CHECK(fits("text", "\"t\""));
  CHECK_FALSE(fits("text", "17"));
  CHECK(fits("numbers", "[1, -2]"));
  CHECK_FALSE(fits("numbers", "[1, \"2\"]"));
  CHECK(fits("table", R"({"k": "v"})"));
  CHECK_FALSE(fits("table", R"({"k": 1})"));
  CHECK(fits("maybe", "null"));
  CHECK(fits("maybe", "3"));
  CHECK(*r.input("text")->default_value == to_bytes(std::string{}));
  CHECK(*r.input("point")->default_value == to_bytes(point{}));
}

SCENARIO("run and start take any workflow's input as JSON and print its result as JSON",
         "[cli][json]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data});
    return run_program(cli_bin, args);
  };
  const std::string order = R"({"item": "tea", "quantity": 3, "price": 2.5})";
  const std::string receipt = R"({"item":"tea","notes":["paid","shipped"],"total":7.5})";

  auto typed = cli({"run", "checkout", "--id", "o1", "--input", order});
  INFO(typed.err);
  CHECK(typed.code == 0);
  CHECK(typed.out == "run o1: completed\n" + receipt + "\n");
  auto inspected = nlohmann::json::parse(cli({"inspect", "o1", "--json"}).out);
  CHECK(inspected["finished"]["value"] == nlohmann::json::parse(receipt));
  CHECK(cli({"run", "count_to", "--id", "n", "--input", "3"}).out == "run n: completed\n[1,2,3]\n");
  CHECK(cli({"run", "punch", "--id", "p", "--input", "41"}).out == "run p: completed\n42\n");

  WHEN("the JSON does not fit the workflow's input") {
    auto wrong = cli({"run", "checkout", "--input", R"(["tea", 3, 2.5])"});
    CHECK(wrong.code == 2);
    CHECK_THAT(wrong.err, Catch::Contains("--input for workflow checkout must be a value of C++ "
                                          "type order")
                            && Catch::Contains("MSGPACK_DEFINE_MAP")
                            && Catch::Contains(R"(got ["tea", 3, 2.5])"));
    auto text = cli({"start", "count_to", "--input", "\"3\""});
    CHECK(text.code == 2);
    CHECK_THAT(text.err, Catch::Contains("workflow count_to must be an integer; got \"3\""));
    auto unquoted = cli({"run", "approval", "--input", "order 7"});
    CHECK(unquoted.code == 2);
    CHECK_THAT(unquoted.err, Catch::Contains("is not valid JSON")
                               && Catch::Contains("quoted: --input '\"text\"'"));
    auto none = cli({"run", "punch"});
    CHECK(none.code == 2);
    CHECK_THAT(none.err, Catch::Contains("workflow punch needs --input: a value of C++ type "
                                         "ticket"));
    THEN("nothing was journaled") {
      CHECK(cli({"list"}).out.find("count_to-") == std::string::npos);
    }
  }
  WHEN("serve runs") {
    child_process serve{{cli_bin, "--data", data, "serve"}};
    REQUIRE(serve.read_line(20s));
    THEN("the same input and output go through it") {
      auto started = cli({"start", "checkout", "--id", "o2", "--input", order});
      CHECK(started.code == 0);
      auto live = cli({"run", "checkout", "--id", "o2"});
      CHECK(live.out == "run o2: completed\n" + receipt + "\n");
      auto wrong = cli({"start", "count_to", "--input", "\"3\""});
      CHECK(wrong.code == 2);
    }
    ::kill(serve.pid(), SIGTERM);
    CHECK(serve.wait(20s) == 0);
  }
}
