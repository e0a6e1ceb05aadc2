// The seed pipeline workload matches the test vectors of WORKLOAD.md, run
// directly and through a runtime with inline and with pooled steps.
#include <catch2/catch.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/cli/seed_pipeline.hpp"

using namespace endure::cli;

TEST_CASE("the seed pipeline reproduces WORKLOAD.md's test vectors", "[pipeline]") {
  CHECK(seed_value("r1").size() == 200);
  CHECK(seed_expected("r1")
        == "4947944a84e132565fbec40251c4e5f9ee5d75a28bde5098e01425c1d38ea2a1725ed5a251f746fa"
           "7ce98e35d7e6fbad20ce5708883541b546506749a03192a659b897f440f0d4588a4ff38fec4405de"
           "b6ec7ec0d7e6c6cb68257e20dd1869553b4de5c8");
  CHECK(seed_expected("pipeline-0")
        == "eea1f8b82f2c4e5db727fdf1d54e87f7c4c8b2f8003ff68a97d0dbc8ddb741f40fa5a51a0343cfde"
           "f4055dbb00395cb29f42df6a610a5b39c552052cc832b2110061348f110e917c72d732d55f89fbbf"
           "73bc5fb1007e201320b0cf7260ec76f3ea977f0a");
}

SCENARIO("both seed workflows, inline and pooled, compute the expected v20", "[pipeline]") {
  using namespace std::chrono_literals;
  endure::test::runtime_fixture f{[](endure::workflow_registry& r) { register_seed_pipeline(r); }};
  for (std::string wf : {"seed_pipeline", "seed_pipeline_pooled"}) {
    auto id = wf + "-r1";
    REQUIRE(f.rt().start(wf, id, id) == endure::run_status::running);
    auto out = f.rt().wait(id, 10s);
    REQUIRE(out);
    CHECK(out->value<std::string>() == seed_expected(id));
  }
}
