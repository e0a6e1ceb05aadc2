// The CLI next to a running `endure serve`: start, signal, cancel, release
// and run reach serve's runtime through DATA_DIR/control.sock with the same
// output and exit codes as the journal path without serve; and the unhappy
// paths: another user, garbage and silence on the socket, a serve killed
// with SIGKILL (its socket file left behind), a serve stopping while
// requests arrive. Real processes throughout: serve and the clients are
// the built binaries (workflows_cli: endure's CLI plus test workflows).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/cli_runner.hpp"
#include "endure/cli/control_protocol.hpp"
#include "endure/cli/local_socket.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

const std::string cli_bin = WORKFLOWS_CLI_PATH;

cli_result cli_run(const std::string& data, std::vector<std::string> args) {
  args.insert(args.begin(), {"--data", data});
  return run_program(cli_bin, args);
}

/// `serve` on `data` as a child process, once it has said it serves.
std::unique_ptr<child_process> start_serve(const std::string& data,
                                           std::vector<std::string> prefix = {}) {
  prefix.insert(prefix.end(), {cli_bin, "--data", data, "serve"});
  auto serve = std::make_unique<child_process>(prefix);
  auto first = serve->read_line(20s);
  REQUIRE(first);
  REQUIRE_THAT(*first, Catch::Contains("serving") && Catch::Contains("control.sock"));
  return serve;
}

int stop(child_process& serve) {
  ::kill(serve.pid(), SIGTERM);
  return serve.wait(20s);
}

/// Waits (bounded) until `endure list --status S` shows the run.
bool await_status(const std::string& data, const std::string& run, const std::string& status) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = cli_run(data, {"list", "--status", status});
    if (list.out.find(run + " ") != std::string::npos)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != text.npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

/// One user session of start, signal, cancel, release and run, as a
/// transcript with the temp dir's path replaced by TMP.
std::string session(const temp_dir& dir, const std::string& data) {
  std::vector<std::vector<std::string>> commands{
    {"run", "sleeper", "--id", "done", "--input", "0"},
    {"start", "sleeper", "--id", "done"},
    {"signal", "done", "go"},
    {"cancel", "done"},
    {"release", "done"},
    {"signal", "ghost", "go"},
    {"cancel", "ghost"},
    {"release", "ghost"},
    {"start", "approval", "--id", "a1", "--input", "\"order 7\""},
    {"signal", "a1", "go", "yes"},
    {"start", "approval", "--id", "c1", "--input", "\"order 8\""},
    {"cancel", "c1", "--reason", "changed plans"},
    {"start", "nothing_like_it"},
    {"run", "crashy", "--id", "q1", "--input", "\"" + dir.file("marker") + "\""},
    {"cancel", "q1"},
    {"release", "q1", "--reason", "fixed"},
  };
  std::string transcript;
  for (auto& c : commands) {
    auto r = cli_run(data, c);
    transcript += "$ " + c.front() + " " + c[1] + "\n" + r.out + r.err + "exit "
                  + std::to_string(r.code) + "\n";
    if (c.front() == "cancel" && c[1] == "q1")  // the fix is deployed, then released
      std::ofstream{dir.file("marker")} << "fixed";
  }
  return replace_all(transcript, dir.path(), "TMP");
}

/// A raw client: connected, greeted.
struct raw_client {
  cli::unique_fd fd;
  cli::control_greeting greeting;
};

std::optional<raw_client> connect_raw(const std::string& data) {
  auto addr = cli::make_local_address(data, "control.sock");
  REQUIRE(addr);
  raw_client c;
  c.fd = cli::unique_fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (::connect(c.fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), sizeof addr->addr))
    return std::nullopt;
  cli::set_nonblocking(c.fd.get());
  auto body = cli::read_frame(c.fd.get(), 1 << 20, cli::control_clock::now() + 10s);
  REQUIRE(body);
  auto g = cli::decode_greeting(*body);
  REQUIRE(g);
  c.greeting = *g;
  return c;
}

/// True once the peer has closed `fd` (EOF), within `limit`.
bool closed_within(int fd, std::chrono::seconds limit) {
  auto r = cli::read_frame(fd, 1 << 20, cli::control_clock::now() + limit);
  return !r && r.error().code == errc::shut_down;
}

} // namespace

SCENARIO("start, signal, cancel, release and run say the same with serve and without",
         "[cli][control]") {
  temp_dir offline_dir, live_dir;
  auto offline = session(offline_dir, offline_dir.file("data"));

  auto serve = start_serve(live_dir.file("data"));
  auto live = session(live_dir, live_dir.file("data"));
  INFO("without serve:\n" << offline << "\nwith serve:\n" << live);
  CHECK(live == offline);
  // The transcript is about something: each kind of answer is in it.
  CHECK_THAT(live, Catch::Contains("run done: completed\n\"slept 0 ms\"\nexit 0"));
  CHECK_THAT(live, Catch::Contains("run done: completed (durable;"));
  CHECK_THAT(live, Catch::Contains("cannot signal run done: run done has already ended "
                                   "(completed); the signal was not delivered\nexit 1"));
  CHECK_THAT(live, Catch::Contains("cannot cancel run done: run done is completed"));
  CHECK_THAT(live, Catch::Contains("cannot release run done: run done is completed, not "
                                   "quarantined"));
  CHECK_THAT(live, Catch::Contains("no run 'ghost' in TMP/data: see `endure list`"));
  CHECK_THAT(live, Catch::Contains("signal go journaled for run a1\nexit 0"));
  CHECK_THAT(live, Catch::Contains("cancel journaled for run c1"));
  CHECK_THAT(live, Catch::Contains("no workflow named 'nothing_like_it'"));
  CHECK_THAT(live, Catch::Contains("run q1: quarantined"));
  CHECK_THAT(live, Catch::Contains("run q1 is quarantined; release it first"));
  CHECK_THAT(live, Catch::Contains("run q1 released;"));

  // Through serve, the signal reached the live run and the release resumed
  // the fixed one.
  auto approved = cli_run(live_dir.file("data"), {"run", "approval", "--id", "a1"});
  CHECK(approved.out == "run a1: completed\n\"order 7 approved: yes\"\n");
  auto fixed = cli_run(live_dir.file("data"), {"run", "crashy", "--id", "q1"});
  CHECK(fixed.code == 0);
  CHECK_THAT(fixed.out, Catch::Contains("fixed after 1 step"));
  CHECK(stop(*serve) == 0);
}

SCENARIO("a serve killed with SIGKILL leaves a socket file that blocks nothing",
         "[cli][control]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto first = start_serve(data);
  REQUIRE(cli_run(data, {"start", "sleeper", "--id", "long", "--input", "600000"}).code == 0);
  first->kill_hard();
  struct stat st {};
  REQUIRE(::stat((data + "/control.sock").c_str(), &st) == 0);  // left behind

  WHEN("a command runs with nobody behind the socket") {
    // What a command costs here (a sanitizer build starts slowly), to tell
    // "at once" from waiting out the greeting timeout (5 s) on the socket.
    auto baseline_began = std::chrono::steady_clock::now();
    REQUIRE(cli_run(data, {"list"}).code == 0);
    auto baseline = std::chrono::steady_clock::now() - baseline_began;
    auto began = std::chrono::steady_clock::now();
    auto cancel = cli_run(data, {"cancel", "long", "--reason", "too long"});
    THEN("it uses the journal at once") {
      CHECK(cancel.code == 0);
      CHECK_THAT(cancel.out, Catch::Contains("cancel journaled for run long"));
      CHECK(std::chrono::steady_clock::now() - began < baseline + 3s);
    }
    AND_WHEN("a new serve starts") {
      auto second = start_serve(data);
      THEN("it replaces the socket and takes requests") {
        auto ended = cli_run(data, {"run", "sleeper", "--id", "long"});
        CHECK(ended.code == 1);
        CHECK_THAT(ended.out, Catch::Contains("run long: cancelled"));
        CHECK_THAT(ended.err, Catch::Contains("too long"));
        CHECK(cli_run(data, {"start", "sleeper", "--id", "next"}).code == 0);
        CHECK(stop(*second) == 0);
      }
    }
  }
}

SCENARIO("endure run through serve finishes its run when serve dies or stops",
         "[cli][control]") {
  temp_dir dir;
  auto data = dir.file("data");
  for (bool kill_hard : {true, false}) {
    auto id = kill_hard ? std::string{"killed"} : std::string{"stopped"};
    INFO(id);
    auto serve = start_serve(data);
    child_process run{{cli_bin, "--data", data, "run", "sleeper", "--id", id, "--input", "1500"}};
    REQUIRE(await_status(data, id, "waiting"));  // started in serve, sleeping
    if (kill_hard) {
      serve->kill_hard();
    } else {
      auto began = std::chrono::steady_clock::now();
      CHECK(stop(*serve) == 0);
      CHECK(std::chrono::steady_clock::now() - began < 10s);  // a waiting client does not hold it
    }
    auto lines = run.read_all(30s);
    CHECK(run.wait(5s) == 0);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "run " + id + ": completed");
    CHECK(lines[1] == "\"slept 1500 ms\"");
  }
}

SCENARIO("serve started while a short command holds the directory waits for it",
         "[cli][control]") {
  temp_dir dir;
  auto data = dir.file("data");
  child_process run{{cli_bin, "--data", data, "run", "sleeper", "--id", "brief", "--input", "800"}};
  REQUIRE(await_status(data, "brief", "waiting"));  // its runtime holds the directory now
  auto serve = start_serve(data);  // fails unless it waits for the lock
  CHECK(run.wait(20s) == 0);
  CHECK(stop(*serve) == 0);
}

SCENARIO("requests racing serve's shutdown are all carried out", "[cli][control]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto serve = start_serve(data);
  constexpr int n = 6;
  for (int i = 0; i < n; ++i)
    REQUIRE(cli_run(data, {"start", "approval", "--id", "a" + std::to_string(i)}).code == 0);
  std::vector<std::unique_ptr<child_process>> clients;
  for (int i = 0; i < n; ++i) {
    auto k = std::to_string(i);
    clients.push_back(std::make_unique<child_process>(std::vector<std::string>{
      cli_bin, "--data", data, "start", "sleeper", "--id", "s" + k, "--input", "10"}));
    clients.push_back(std::make_unique<child_process>(
      std::vector<std::string>{cli_bin, "--data", data, "signal", "a" + k, "go", "yes"}));
    if (i == n / 2)
      ::kill(serve->pid(), SIGTERM);  // while requests arrive
  }
  for (auto& c : clients) {
    auto out = c->read_all(70s);
    CHECK(c->wait(5s) == 0);
  }
  CHECK(serve->wait(20s) == 0);
  // Every signal was journaled exactly once: each run sees "yes".
  auto again = start_serve(data);
  for (int i = 0; i < n; ++i) {
    auto k = std::to_string(i);
    auto a = cli_run(data, {"run", "approval", "--id", "a" + k});
    CHECK(a.out == "run a" + k + ": completed\n\" approved: yes\"\n");
    CHECK(cli_run(data, {"run", "sleeper", "--id", "s" + k}).code == 0);
  }
  CHECK(stop(*again) == 0);
}

SCENARIO("garbage, silence and floods on the control socket do not stall serve",
         "[cli][control]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto serve = start_serve(data);
  auto deadline = [] { return cli::control_clock::now() + 10s; };

  GIVEN("an empty frame, and a frame claiming 4 GiB") {
    auto c = connect_raw(data);
    REQUIRE(c);
    REQUIRE(c->greeting.state == cli::channel_state::ready);
    CHECK(cli::write_frame(c->fd.get(), std::string(0, '\0'), deadline()));  // empty body
    auto body = cli::read_frame(c->fd.get(), 1 << 20, deadline());
    REQUIRE(body);
    auto reply = cli::decode_reply(*body);
    REQUIRE(reply);
    CHECK(reply->code == errc::invalid_argument);

    auto d = connect_raw(data);
    REQUIRE(d);
    const char huge[4] = {'\xff', '\xff', '\xff', '\xff'};
    REQUIRE(::send(d->fd.get(), huge, 4, MSG_NOSIGNAL) == 4);
    auto answer = cli::read_frame(d->fd.get(), 1 << 20, deadline());
    REQUIRE(answer);
    CHECK(cli::decode_reply(*answer)->code == errc::invalid_argument);
    CHECK(closed_within(d->fd.get(), 10s));
  }
  GIVEN("msgpack that is not a request") {
    auto c = connect_raw(data);
    REQUIRE(c);
    REQUIRE(cli::write_frame(c->fd.get(), "\x93\x01\x02\x03", deadline()));
    auto body = cli::read_frame(c->fd.get(), 1 << 20, deadline());
    REQUIRE(body);
    auto reply = cli::decode_reply(*body);
    REQUIRE(reply);
    CHECK(reply->code == errc::invalid_argument);
    CHECK_THAT(reply->message, Catch::Contains("request"));
  }
  GIVEN("more silent clients than serve takes at once") {
    std::vector<raw_client> silent;
    int busy = 0;
    for (int i = 0; i < 20; ++i) {
      auto c = connect_raw(data);
      REQUIRE(c);
      busy += c->greeting.state == cli::channel_state::busy ? 1 : 0;
      silent.push_back(std::move(*c));
    }
    CHECK(busy == 4);  // 16 admitted, the rest told to come back
    auto began = std::chrono::steady_clock::now();
    auto start = cli_run(data, {"start", "sleeper", "--id", "after-flood", "--input", "0"});
    THEN("a real request still gets through once serve has dropped them") {
      CHECK(start.code == 0);
      CHECK_THAT(start.out, Catch::Contains("run after-flood: running"));
      CHECK(std::chrono::steady_clock::now() - began < 9s);
      for (auto& s : silent)
        CHECK(closed_within(s.fd.get(), 7s));
    }
  }
  auto alive = cli_run(data, {"signal", "ghost", "go"});
  CHECK(alive.code == 1);
  CHECK_THAT(alive.err, Catch::Contains("no run 'ghost'"));
  CHECK(stop(*serve) == 0);
}

SCENARIO("a data directory deeper than a socket address holds still gets a channel",
         "[cli][control]") {
  temp_dir dir;
  auto data = dir.file(std::string(120, 'd'));  // sun_path holds 107 characters
  auto serve = start_serve(data);
  auto r = cli_run(data, {"run", "sleeper", "--id", "deep", "--input", "0"});
  CHECK(r.code == 0);
  CHECK(r.out == "run deep: completed\n\"slept 0 ms\"\n");
  CHECK(stop(*serve) == 0);
}

SCENARIO("only serve's own user may use its control socket", "[cli][control]") {
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0) {
    WARN("needs root and setpriv to run processes as another user; skipped");
    return;
  }
  const std::vector<std::string> as_nobody{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                           "--clear-groups"};
  temp_dir dir;
  ::chmod(dir.path().c_str(), 0711);  // nobody may pass through, not list

  GIVEN("a serve run by root") {
    auto data = dir.file("root-data");
    auto serve = start_serve(data);
    std::vector<std::string> args{as_nobody.begin() + 1, as_nobody.end()};
    args.insert(args.end(), {cli_bin, "--data", data, "signal", "any", "go"});
    auto r = run_program(as_nobody.front(), args);
    THEN("another user cannot even connect, and is told why") {
      CHECK(r.code == 1);
      CHECK_THAT(r.err, Catch::Contains("control.sock: permission denied (only the user running "
                                        "`endure serve`"));
    }
    struct stat st {};
    REQUIRE(::stat((data + "/control.sock").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(stop(*serve) == 0);
  }
  GIVEN("a serve run by another user") {
    auto data = dir.file("nobody-data");
    std::filesystem::create_directories(data);
    REQUIRE(::chown(data.c_str(), 65534, 65534) == 0);
    auto serve = start_serve(data, as_nobody);
    THEN("root connects (permissions do not stop it) and is refused by uid") {
      auto r = cli_run(data, {"signal", "any", "go"});
      CHECK(r.code == 1);
      CHECK_THAT(r.err, Catch::Contains("takes requests only from its own user (uid 65534); "
                                        "you are uid 0"));
    }
    CHECK(stop(*serve) == 0);
  }
}
