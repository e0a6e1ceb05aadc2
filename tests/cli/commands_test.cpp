// run, start, list, inspect, signal and cancel as a user types them, and
// every bad input: each error names what is wrong and exits 1 (failure) or
// 2 (usage).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_runner.hpp"
#include "endure/cli/seed_pipeline.hpp"
#include "support/child_process.hpp"
#include "support/file_damage.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
using namespace std::chrono_literals;

SCENARIO("run, start, list and inspect", "[cli][commands]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto r = run_endure({"--data", data, "run", "seed_pipeline", "--id", "r1", "--input", "\"r1\""});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("run r1: completed"));
  // The JSON string "r1" reaches the workflow as the string r1; the result
  // is printed as JSON.
  CHECK_THAT(r.out, Catch::Contains("\"" + endure::cli::seed_expected("r1") + "\""));

  auto gen = run_endure({"--data", data, "run", "seed_pipeline"});
  CHECK(gen.code == 0);
  CHECK_THAT(gen.out, Catch::Contains("run id: seed_pipeline-"));

  auto started = run_endure({"--data", data, "start", "seed_pipeline", "--id", "later"});
  CHECK(started.code == 0);
  CHECK_THAT(started.out, Catch::Contains("durable"));

  auto list = run_endure({"--data", data, "list"});
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("r1") && Catch::Contains("completed")
                         && Catch::Contains("step20") && Catch::Contains("later"));
  auto done = run_endure({"--data", data, "list", "--status", "completed"});
  CHECK_THAT(done.out, Catch::Contains("r1"));
  CHECK_THAT(done.out, !Catch::Contains("later"));

  auto inspect = run_endure({"--data", data, "inspect", "r1"});
  CHECK(inspect.code == 0);
  CHECK_THAT(inspect.out, Catch::Contains("step1 ") && Catch::Contains("finished completed"));

  auto attach = run_endure({"--data", data, "run", "seed_pipeline", "--id", "later"});
  CHECK(attach.code == 0);
  CHECK_THAT(attach.out, Catch::Contains("run later: completed"));
}

SCENARIO("signal and cancel reach a run through the journal", "[cli][commands]") {
  temp_dir dir;
  auto data = dir.file("data");
  REQUIRE(run_endure({"--data", data, "start", "seed_pipeline", "--id", "c1"}).code == 0);
  auto sig = run_endure({"--data", data, "signal", "c1", "approved", "yes"});
  INFO(sig.err);
  CHECK(sig.code == 0);
  auto release = run_endure({"--data", data, "release", "c1"});
  CHECK(release.code == 1);
  CHECK_THAT(release.err, Catch::Contains("cannot release run c1"));
  auto cancel = run_endure({"--data", data, "cancel", "c1"});
  INFO(cancel.err);
  CHECK(cancel.code == 0);
  auto inspect = run_endure({"--data", data, "inspect", "c1"});
  CHECK_THAT(inspect.out, Catch::Contains("signal approved: yes")
                            && Catch::Contains("cancel requested: cancelled from the command line"));
  CHECK_THAT(inspect.out, Catch::Contains("status running"));  // journaled, not yet acted on
  auto resumed = run_endure({"--data", data, "run", "seed_pipeline", "--id", "c1"});
  CHECK_THAT(resumed.out, Catch::Contains("run c1: cancelled"));
  auto ended = run_endure({"--data", data, "signal", "c1", "late"});
  CHECK(ended.code == 1);
  CHECK_THAT(ended.err, Catch::Contains("run c1 has already ended (cancelled)"));
}

SCENARIO("bad inputs get clear errors and exit codes", "[cli][errors]") {
  temp_dir dir;
  auto data = dir.file("data");
  REQUIRE(run_endure({"--data", data, "run", "seed_pipeline", "--id", "ok"}).code == 0);

  auto unknown = run_endure({"--data", data, "run", "no_such_flow"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("no_such_flow") && Catch::Contains("seed_pipeline"));

  auto json = run_endure({"--data", data, "run", "seed_pipeline", "--input", "{bad"});
  CHECK(json.code == 2);
  CHECK_THAT(json.err, Catch::Contains("not valid JSON"));

  for (auto cmd : std::vector<std::vector<std::string>>{
         {"inspect", "ghost"}, {"signal", "ghost", "go"}, {"cancel", "ghost"}}) {
    std::vector<std::string> args{"--data", data};
    args.insert(args.end(), cmd.begin(), cmd.end());
    auto r = run_endure(args);
    INFO(cmd.front());
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("no run 'ghost'"));
  }

  auto status = run_endure({"--data", data, "list", "--status", "sleeping"});
  CHECK(status.code == 2);
  CHECK_THAT(status.err, Catch::Contains("unknown status 'sleeping'"));

  auto nothing = run_endure({"--data", dir.file("empty"), "list"});
  CHECK(nothing.code == 1);
  CHECK_THAT(nothing.err, Catch::Contains("no journal"));

  // A mistyped --data: refused, and no empty data directory left behind.
  for (auto cmd : std::vector<std::vector<std::string>>{{"signal", "r1", "go"},
                                                        {"cancel", "r1"},
                                                        {"release", "r1"},
                                                        {"approve", "r1/0", "--as", "ann"}}) {
    std::vector<std::string> args{"--data", dir.file("typo")};
    args.insert(args.end(), cmd.begin(), cmd.end());
    auto r = run_endure(args);
    INFO(cmd.front());
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("no journal in " + dir.file("typo"))
                        && Catch::Contains("check --data"));
    CHECK_FALSE(std::filesystem::exists(dir.file("typo")));
  }

  auto usage = run_endure({"--data", data, "inspect"});
  CHECK(usage.code == 2);

  auto typo = run_endure({"--data", data, "lsit"});
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Catch::Contains("unknown command 'lsit'"));
  auto mode = run_endure({"--data", data, "list", "--mode", "fast"});  // read-only commands too
  CHECK(mode.code == 2);
  CHECK_THAT(mode.err, Catch::Contains("unknown durability mode 'fast'"));
  auto limit = run_endure({"--data", data, "inbox", "--limit", "0"});
  CHECK(limit.code == 2);
  CHECK_THAT(limit.err, Catch::Contains("--limit: Value 0 not in range 1 to 1000000000"));
}

SCENARIO("a data directory that cannot be written is reported", "[cli][errors]") {
  temp_dir dir;
  std::ofstream{dir.file("a_file")} << "x";
  auto under_file = run_endure({"--data", dir.file("a_file") + "/data", "run", "seed_pipeline"});
  CHECK(under_file.code == 1);
  CHECK_THAT(under_file.err, Catch::Contains("a_file/data"));

  // A directory its owner may read but not write. Root (as CI runs) would
  // write it anyway, so the command runs without the capabilities that let
  // root ignore file modes: the write is really denied, for everyone.
  auto ro = dir.file("ro");
  REQUIRE(::mkdir(ro.c_str(), 0500) == 0);
  auto [code, out] = run_command({ENDURE_BIN_PATH, "--data", ro, "run", "seed_pipeline"}, 60s,
                                 {.merge_stderr = true, .without_file_capabilities = true});
  CHECK(code == 1);
  CHECK_THAT(out, Catch::Contains("data directory " + ro + " is not writable"));
  CHECK(std::filesystem::is_empty(ro));  // nothing was created in it
  ::chmod(ro.c_str(), 0700);
}

SCENARIO("a damaged journal record is named by run and seq", "[cli][errors]") {
  temp_dir dir;
  auto data = dir.file("data");
  REQUIRE(run_endure({"--data", data, "run", "seed_pipeline", "--id", "dmg", "--input",
                      "\"MARKERQZX\""}).code == 0);
  REQUIRE(flip_bit_near(data + "/data.mdb", "MARKERQZX", 2) > 0);
  auto r = run_endure({"--data", data, "inspect", "dmg"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("run dmg seq"));
  CHECK_THAT(r.err, Catch::Contains("damaged"));
}

SCENARIO("global options work after the subcommand as well as before it", "[cli][commands]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto pipeline = run_endure({"pipeline", "--runs", "2", "--data", data, "--mode", "nosync"});
  INFO(pipeline.err);
  CHECK(pipeline.code == 0);
  CHECK_THAT(pipeline.out, Catch::Contains("completed 2 runs"));
  auto list = run_endure({"list", "--data", data});
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("pipeline-0") && Catch::Contains("pipeline-1"));
  auto inspect = run_endure({"inspect", "pipeline-1", "--data", data, "--json"});
  CHECK(inspect.code == 0);
  CHECK_THAT(inspect.out, Catch::Contains("\"run\": \"pipeline-1\""));
  auto start = run_endure({"start", "seed_pipeline", "--id", "later", "--data", data});
  CHECK(start.code == 0);
  auto signal = run_endure({"signal", "later", "go", "now", "--data", data});
  CHECK(signal.code == 0);
  CHECK(run_endure({"--data", data, "inspect", "later"}).out.find("signal go: now")
        != std::string::npos);
  auto bad = run_endure({"start", "seed_pipeline", "--data", data, "--mode", "sometimes"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("unknown durability mode 'sometimes'"));
  auto unknown = run_endure({"list", "--dat", data});
  CHECK(unknown.code == 2);
}
