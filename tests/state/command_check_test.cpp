// Command verifications in real child processes: the verdict follows the
// exit status and the expected output; the evidence carries what ran, the
// status, the output's hash and tail; a command that hangs (or leaves a
// child holding its output open) is cut off at its timeout with that
// evidence; a missing working directory is evidence too, not a crash.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "endure/actors/state/command_check.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/net/sha256.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::state;
using namespace std::chrono_literals;

namespace {

verification command(std::string cmd, std::chrono::milliseconds timeout = 10s) {
  verification v;
  v.command = std::move(cmd);
  v.timeout = timeout;
  return v;
}

evidence run(const verification& v, const std::string& dir) {
  return run_command_check(v, dir, [] { return std::int64_t{42}; });
}

/// The pid a check wrote to bg.pid in `dir`.
int background_pid(const test::temp_dir& dir) {
  int pid = 0;
  std::ifstream{dir.file("bg.pid")} >> pid;
  REQUIRE(pid > 0);
  return pid;
}

/// Whether process `pid` is gone, or a zombie waiting for its reaper: not
/// running on (waits up to 10 s).
bool ends(int pid) {
  return test::eventually([&] {
    std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
    std::string pid_field, comm, state;
    return !(stat >> pid_field >> comm >> state) || state == "Z";
  });
}

} // namespace

SCENARIO("a command verification passes on its exit status and expected output",
         "[state][verification]") {
  test::temp_dir dir;
  std::ofstream{dir.file("01.md")} << "# Crashes\nkill -9 is survived.\n";
  auto ok = run(command("grep 'kill -9' 01.md"), dir.path());
  CHECK(ok.passed);
  CHECK(ok.reason.empty());
  CHECK(ok.exit_status == 0);
  CHECK(ok.ran == "grep 'kill -9' 01.md");
  CHECK(ok.result_hash == net::sha256_hex("kill -9 is survived.\n"));
  CHECK(ok.output_tail == "kill -9 is survived.\n");
  CHECK(ok.at_ms == 42);

  auto missing = run(command("grep -q 'SIGTERM' 01.md"), dir.path());
  CHECK_FALSE(missing.passed);
  CHECK(missing.exit_status == 1);
  CHECK(missing.reason == "exit status 1, expected 0");

  auto v = command("echo checked; exit 3");
  v.expect_exit = 3;
  v.expect_output = "checked";
  CHECK(run(v, dir.path()).passed);
  v.expect_output = "approved";
  auto wrong_output = run(v, dir.path());
  CHECK_FALSE(wrong_output.passed);
  CHECK(wrong_output.reason == "standard output does not contain \"approved\"");

  auto stderr_too = run(command("echo oops >&2; false"), dir.path());
  CHECK_FALSE(stderr_too.passed);
  CHECK_THAT(stderr_too.output_tail, Catch::Matchers::Contains("[stderr]\noops"));
}

SCENARIO("a verification that hangs is cut off at its timeout and fails with that evidence",
         "[state][verification]") {
  test::temp_dir dir;
  auto t0 = std::chrono::steady_clock::now();
  auto hung = run(command("echo started; sleep 30", 300ms), dir.path());
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(hung.passed);
  CHECK(hung.timed_out);
  CHECK_FALSE(hung.exit_status);
  CHECK(hung.reason == "timed out after 300 ms: the command was killed (its process group, "
                       "SIGKILL)");
  CHECK(hung.output_tail == "started\n");
  CHECK(took < 10s);  // bounded, not the 30 s the command wanted

  // A background child holding the output pipe open is killed with the group.
  auto t1 = std::chrono::steady_clock::now();
  auto orphan = run(command("sleep 30 & echo $! > bg.pid; wait", 300ms), dir.path());
  CHECK(orphan.timed_out);
  CHECK(std::chrono::steady_clock::now() - t1 < 10s);
  int pid = background_pid(dir);
  CHECK(ends(pid));
}

SCENARIO("a verification that cannot start is failing evidence", "[state][verification]") {
  auto e = run(command("true"), "/nonexistent/workspace");
  CHECK_FALSE(e.passed);
  CHECK_THAT(e.reason, Catch::Matchers::Contains("/nonexistent/workspace"));
}

SCENARIO("a large output is read to the end, hashed and its tail kept", "[state][verification]") {
  test::temp_dir dir;
  auto e = run(command("head -c 300000 /dev/zero | tr '\\0' 'a'; echo END"), dir.path());
  CHECK(e.passed);
  CHECK(e.output_tail.size() == 2048);
  CHECK(e.output_tail.substr(e.output_tail.size() - 4) == "END\n");
  CHECK(tail_of("h\xc3\xa9llo", 4) == "llo");  // never half a UTF-8 character
}

SCENARIO("a command that prints bytes that are not UTF-8 leaves evidence that can be stored",
         "[state][verification]") {
  test::temp_dir dir;
  verification v;
  v.command = "printf 'ok \\377\\376 done\\303'";
  auto e = run_command_check(v, dir.path(), [] { return std::int64_t{1}; });
  CHECK(e.passed);
  // Strict JSON (prompts, messages) takes it as it is: U+FFFD for each bad byte.
  CHECK_NOTHROW(nlohmann::json(e.output_tail).dump());
  CHECK(e.output_tail == "ok \xEF\xBF\xBD\xEF\xBF\xBD done\xEF\xBF\xBD");
  CHECK(e.result_hash == net::sha256_hex("ok \xff\xfe done\xc3"));
}

SCENARIO("an output longer than what is kept still has its real tail, hash and expected text",
         "[state][verification]") {
  test::temp_dir dir;
  // 6 MiB of 'a', then the text the check expects: past the 4 MiB kept.
  auto v = command("head -c 6291456 /dev/zero | tr '\\0' 'a'; echo ' ALL CHECKS OK'");
  v.expect_output = "ALL CHECKS OK";
  auto e = run(v, dir.path());
  CHECK(e.passed);
  CHECK(e.reason == "");
  CHECK_THAT(e.output_tail, Catch::Matchers::EndsWith("a ALL CHECKS OK\n"));
  CHECK(e.result_hash == net::sha256_hex(std::string(6291456, 'a') + " ALL CHECKS OK\n"));
}

SCENARIO("a verification that passes leaves no process of its own running",
         "[state][verification]") {
  test::temp_dir dir;
  auto e = run(command("sleep 30 >/dev/null 2>&1 & echo $! > bg.pid"), dir.path());
  CHECK(e.passed);
  int pid = background_pid(dir);
  CHECK(ends(pid));
  ::kill(pid, SIGKILL);  // the test leaves nothing behind either way
}
