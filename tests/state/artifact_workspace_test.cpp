// A task's git workspace: paths that would leave it or touch .git are
// refused; a new workspace has a first commit; a write-back is one commit
// with its key as a trailer, made once per key, however often it is
// retried (also by a fresh object after the writer was killed with SIGKILL
// right after committing, or at any moment of a loop of write-backs); the
// log is what the git CLI reads.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "endure/actors/state/workspace.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::state;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

workspace open_ws(const fs::path& dir) {
  auto ws = workspace::open_or_init(dir);
  INFO((ws ? "" : ws.error().to_string()));
  REQUIRE(ws);
  return std::move(*ws);
}

std::vector<std::string> keys_of(const workspace& ws) {
  auto log = ws.log(1000);
  REQUIRE(log);
  std::vector<std::string> keys;
  for (auto it = log->rbegin(); it != log->rend(); ++it)
    keys.push_back(it->key);
  return keys;
}

/// The git CLI's path, or "" when it is not installed.
std::string git_cli() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    auto end = std::min(dirs.find(':', start), dirs.size());
    auto candidate = fs::path{dirs.substr(start, end - start)} / "git";
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate.string();
    start = end + 1;
  }
  return {};
}

} // namespace

SCENARIO("paths that leave the workspace or touch .git are refused", "[state][workspace]") {
  test::temp_dir tmp;
  auto ws = open_ws(tmp.file("ws"));
  fs::create_directories(tmp.file("outside"));
  fs::create_directory_symlink(tmp.file("outside"), tmp.file("ws/out"));
  fs::create_symlink(tmp.file("outside/secret"), tmp.file("ws/dangling"));
  fs::create_directory_symlink(tmp.file("ws/.git"), tmp.file("ws/gitdir"));
  for (const std::string& bad : std::vector<std::string>{"", "/etc/passwd", "../escape.txt", "a/../../escape.txt", "a/../inside.txt", "a/./b",
                          "a//b", "a/", ".git/config", ".GIT/HEAD", "sub/.git/x", "out/x.txt",
                          "dangling", "gitdir/config", std::string("a\0b", 3)}) {
    INFO("path '" << bad << "'");
    auto w = ws.write_file(bad, "x");
    REQUIRE_FALSE(w);
    CHECK(w.error().code == errc::invalid_argument);
    CHECK_THAT(w.error().message, Catch::Contains("path '"));
    auto r = ws.read_file(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
  }
  CHECK_FALSE(fs::exists(tmp.file("escape.txt")));
  CHECK_FALSE(fs::exists(tmp.file("outside/x.txt")));
  CHECK_FALSE(fs::exists(tmp.file("outside/secret")));
  WHEN("a path stays inside, also through a symlink that stays inside") {
    REQUIRE(ws.write_file("docs/a.md", "alpha"));
    fs::create_directory_symlink("docs", tmp.file("ws/alias"));
    REQUIRE(ws.write_file("alias/b.md", "beta"));
    THEN("it is written and read back") {
      CHECK(ws.read_file("docs/a.md") == std::string{"alpha"});
      CHECK(ws.read_file("docs/b.md") == std::string{"beta"});
      auto missing = ws.read_file("docs/none.md");
      REQUIRE_FALSE(missing);
      CHECK(missing.error().code == errc::not_found);
    }
  }
}

SCENARIO("a new workspace has a first commit and a clean tree", "[state][workspace]") {
  test::temp_dir tmp;
  GIVEN("a directory that does not exist") {
    auto ws = open_ws(tmp.file("new/ws"));
    auto log = ws.log(10);
    REQUIRE(log);
    REQUIRE(log->size() == 1);
    CHECK_THAT(log->front().message, Catch::StartsWith("Workspace created"));
    CHECK(ws.head() == log->front().id);
    CHECK(ws.is_clean() == true);
    CHECK(ws.list_files()->empty());
  }
  GIVEN("a directory with files and no repository") {
    fs::create_directories(tmp.file("old/src"));
    std::ofstream{tmp.file("old/src/main.c")} << "int main() {}\n";
    auto ws = open_ws(tmp.file("old"));
    THEN("the first commit holds them") {
      CHECK(ws.is_clean() == true);
      CHECK(ws.list_files() == std::vector<std::string>{"src/main.c"});
      CHECK(ws.log(10)->size() == 1);
    }
  }
  GIVEN("a workspace opened again") {
    { open_ws(tmp.file("ws")); }
    auto ws = open_ws(tmp.file("ws"));
    THEN("no second first commit is made") { CHECK(ws.log(10)->size() == 1); }
  }
  GIVEN("a directory inside another repository") {
    auto outer = open_ws(tmp.file("outer"));
    auto inner = open_ws(tmp.file("outer/inner"));
    THEN("the workspace is its own repository") {
      CHECK(inner.log(10)->size() == 1);
      CHECK(fs::exists(tmp.file("outer/inner/.git")));
    }
  }
}

SCENARIO("a write-back is one commit, made once per key", "[state][workspace]") {
  test::temp_dir tmp;
  auto ws = open_ws(tmp.file("ws"));
  REQUIRE(ws.write_file("notes.md", "session 1\n"));
  REQUIRE(ws.write_file("plan/todo.txt", "- a\n"));
  CHECK(ws.is_clean() == false);
  using outcome = write_back_result::outcome;
  auto first = ws.commit_all("Session 1: notes and plan", "run-1/3");
  REQUIRE(first);
  CHECK(first->what == outcome::committed);
  CHECK(ws.is_clean() == true);
  CHECK(ws.head() == first->commit);
  auto log = ws.log(10);
  REQUIRE(log->size() == 2);
  CHECK(log->front().key == "run-1/3");
  CHECK_THAT(log->front().message, Catch::StartsWith("Session 1: notes and plan\n\n")
                                     && Catch::EndsWith("Endure-Write-Back: run-1/3\n"));
  WHEN("the same key is committed again, even with new changes") {
    REQUIRE(ws.write_file("notes.md", "changed after\n"));
    auto again = ws.commit_all("Session 1: notes and plan", "run-1/3");
    REQUIRE(again);
    THEN("nothing is committed and HEAD is returned") {
      CHECK(again->what == outcome::already_committed);
      CHECK(again->commit == first->commit);
      CHECK(ws.log(10)->size() == 2);
    }
  }
  WHEN("a fresh object commits the same key (a step re-run in a new process)") {
    auto fresh = open_ws(tmp.file("ws"));
    auto again = fresh.commit_all("Session 1: notes and plan", "run-1/3");
    REQUIRE(again);
    CHECK(again->what == outcome::already_committed);
    CHECK(again->commit == first->commit);
    CHECK(keys_of(fresh) == std::vector<std::string>{"", "run-1/3"});
  }
  WHEN("a new key finds nothing changed") {
    auto none = ws.commit_all("Session 2: nothing", "run-1/7");
    REQUIRE(none);
    THEN("no empty commit is made unless asked") {
      CHECK(none->what == outcome::nothing_to_commit);
      CHECK(none->commit == first->commit);
      CHECK(ws.log(10)->size() == 2);
      auto empty = ws.commit_all("Session 2: nothing", "run-1/7", true);
      REQUIRE(empty);
      CHECK(empty->what == outcome::committed);
      CHECK(ws.log(10)->size() == 3);
    }
  }
  WHEN("files are changed and removed") {
    REQUIRE(ws.write_file("notes.md", "session 2\n"));
    REQUIRE(ws.remove_file("plan/todo.txt"));
    auto second = ws.commit_all("Session 2: drop the plan", "run-1/9");
    REQUIRE(second);
    THEN("the commit holds both and the tree is clean") {
      CHECK(second->what == outcome::committed);
      CHECK(ws.is_clean() == true);
      CHECK(ws.list_files() == std::vector<std::string>{"notes.md"});
      CHECK(keys_of(ws) == std::vector<std::string>{"", "run-1/3", "run-1/9"});
    }
  }
  WHEN("uncommitted edits are discarded") {
    REQUIRE(ws.write_file("notes.md", "half-written"));
    REQUIRE(ws.write_file("stray.tmp", "left by a crash"));
    REQUIRE(ws.discard_changes());
    THEN("the tree is HEAD's again") {
      CHECK(ws.is_clean() == true);
      CHECK(ws.read_file("notes.md") == std::string{"session 1\n"});
      CHECK_FALSE(fs::exists(tmp.file("ws/stray.tmp")));
    }
  }
  WHEN("the message or key is malformed") {
    for (auto [message, key] : std::vector<std::pair<std::string, std::string>>{
           {"", "k"}, {" \n", "k"}, {"m", ""}, {"m", "two\nlines"}, {"m", std::string(201, 'k')}}) {
      auto bad = ws.commit_all(message, key);
      REQUIRE_FALSE(bad);
      CHECK(bad.error().code == errc::invalid_argument);
    }
    CHECK(ws.log(10)->size() == 2);
  }
}

SCENARIO("lock files a writer killed mid-commit left do not block the next one",
         "[state][workspace][crash]") {
  test::temp_dir tmp;
  auto dir = tmp.file("ws");
  { open_ws(dir); }
  // What libgit2 holds while it writes the index and moves the branch.
  std::ofstream{tmp.file("ws/.git/index.lock")} << "partial";
  std::ofstream{tmp.file("ws/.git/refs/heads/main.lock")} << "partial";
  auto ws = open_ws(dir);
  REQUIRE(ws.write_file("a.txt", "a\n"));
  auto w = ws.commit_all("After the crash", "run-1/1");
  INFO((w ? "" : w.error().to_string()));
  REQUIRE(w);
  CHECK(w->what == write_back_result::outcome::committed);
  CHECK(keys_of(ws) == std::vector<std::string>{"", "run-1/1"});
  CHECK_FALSE(fs::exists(tmp.file("ws/.git/index.lock")));
}

SCENARIO("a writer killed with SIGKILL right after its commit leaves one commit per key",
         "[state][workspace][crash]") {
  test::temp_dir tmp;
  auto dir = tmp.file("ws");
  {
    test::child_process child{{ARTIFACT_WORKSPACE_CHILD, dir, "once"}};
    auto line = child.read_line(10s);
    REQUIRE(line);
    REQUIRE_THAT(*line, Catch::StartsWith("committed "));
    child.kill_hard();  // before anything could journal the write-back
  }
  // The step re-runs in a new process: same files, same key.
  auto ws = open_ws(dir);
  REQUIRE(ws.write_file("notes.md", "session 1\n"));
  auto again = ws.commit_all("Write back session 1", "run-1/1");
  REQUIRE(again);
  CHECK(again->what == write_back_result::outcome::already_committed);
  CHECK(keys_of(ws) == std::vector<std::string>{"", "run-1/1"});
  CHECK(ws.is_clean() == true);
}

SCENARIO("a loop of write-backs killed at any moment is finished with one commit per key",
         "[state][workspace][crash]") {
  constexpr int total = 12;
  // Kill after a few acknowledged write-backs: the child is then in the
  // middle of its next one (writing, staging, committing, updating HEAD).
  for (int acknowledged : {1, 3, 6}) {
    test::temp_dir tmp;
    auto dir = tmp.file("ws");
    int done = 0;
    {
      test::child_process child{{ARTIFACT_WORKSPACE_CHILD, dir, "loop", std::to_string(total)}};
      while (done < acknowledged) {
        auto line = child.read_line(10s);
        REQUIRE(line);
        ++done;
      }
      child.kill_hard();
    }
    // The next process redoes from the first write-back not acknowledged
    // (it may have landed: then it is not committed twice).
    auto ws = open_ws(dir);
    for (int i = done + 1; i <= total; ++i) {
      REQUIRE(ws.write_file("counter.txt", std::to_string(i) + "\n"));
      auto w = ws.commit_all("Write-back " + std::to_string(i), "k" + std::to_string(i));
      INFO((w ? "" : w.error().to_string()));
      REQUIRE(w);
    }
    std::vector<std::string> expected{""};
    for (int i = 1; i <= total; ++i)
      expected.push_back("k" + std::to_string(i));
    INFO("killed after " << acknowledged << " acknowledged write-backs");
    CHECK(keys_of(ws) == expected);
    CHECK(ws.is_clean() == true);
  }
}

SCENARIO("the git CLI reads the workspace's log", "[state][workspace]") {
  auto git = git_cli();
  if (git.empty()) {
    WARN("git is not installed: skipped");
    return;
  }
  test::temp_dir tmp;
  auto ws = open_ws(tmp.file("ws"));
  REQUIRE(ws.write_file("a.txt", "a\n"));
  REQUIRE(ws.commit_all("Add a", "run-1/1"));
  REQUIRE(ws.write_file("a.txt", "b\n"));
  REQUIRE(ws.commit_all("Change a", "run-1/2"));
  auto dir = tmp.file("ws");
  auto [code, subjects] = test::run_command(
    {git, "-C", dir, "log", "--format=%s|%(trailers:key=Endure-Write-Back,valueonly)"}, 10s);
  REQUIRE(code == 0);
  CHECK(subjects == "Change a|run-1/2\n\nAdd a|run-1/1\n\nWorkspace created|\n");
  auto [fsck, out] = test::run_command({git, "-C", dir, "fsck", "--strict"}, 10s);
  CHECK(fsck == 0);
  auto [status, porcelain] = test::run_command({git, "-C", dir, "status", "--porcelain"}, 10s);
  CHECK(status == 0);
  CHECK(porcelain.empty());
  auto [branch, name] = test::run_command({git, "-C", dir, "branch", "--show-current"}, 10s);
  CHECK(name == "main\n");
}

SCENARIO("the log lists the write-backs, newest first, also after a merge of commits with "
         "skewed clocks", "[state][workspace]") {
  auto git = git_cli();
  if (git.empty()) {
    WARN("git is not installed: skipped");
    return;
  }
  test::temp_dir tmp;
  auto dir = tmp.file("ws");
  auto ws = open_ws(dir);
  auto cli = [&](std::vector<std::string> args, std::string date = "") {
    std::vector<std::string> argv{"/usr/bin/env"};
    if (!date.empty()) {
      argv.push_back("GIT_COMMITTER_DATE=" + date);
      argv.push_back("GIT_AUTHOR_DATE=" + date);
    }
    for (auto a : {git, std::string{"-C"}, dir, std::string{"-c"}, std::string{"user.name=t"},
                   std::string{"-c"}, std::string{"user.email=t@example.org"}})
      argv.push_back(a);
    argv.insert(argv.end(), args.begin(), args.end());
    auto [code, out] = test::run_command(argv, 10s);
    INFO(out);
    REQUIRE(code == 0);
  };
  // A side branch from the first commit, its commit dated far ahead.
  cli({"branch", "side"});
  cli({"checkout", "-q", "side"});
  std::ofstream{dir + "/side.txt"} << "side\n";
  cli({"add", "side.txt"});
  cli({"commit", "-q", "-m", "Side"}, "2090-01-01T00:00:00");
  cli({"checkout", "-q", "main"});
  for (int i = 1; i <= 3; ++i) {
    REQUIRE(ws.write_file("a.txt", std::to_string(i) + "\n"));
    REQUIRE(ws.commit_all("Write-back " + std::to_string(i), "run-1/" + std::to_string(i)));
  }
  cli({"merge", "-q", "--no-ff", "side", "-m", "Merge side"});
  auto log = ws.log(4);
  REQUIRE(log);
  std::vector<std::string> subjects;
  for (auto& c : *log)
    subjects.push_back(c.message.substr(0, c.message.find('\n')));
  CHECK(subjects == std::vector<std::string>{"Merge side", "Write-back 3", "Write-back 2",
                                             "Write-back 1"});
}
