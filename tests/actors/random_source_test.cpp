// ctx.uuid() and ctx.random() draw from the operating system: ids are
// version 4 UUIDs with their 122 random bits, unique across threads and
// across a fork (a generator state copied into a child would repeat the
// parent's next ids).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>

#include "endure/actors/detail/random_source.hpp"

using namespace endure;

TEST_CASE("a uuid is RFC 4122 version 4 text", "[uuid]") {
  std::regex form{"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"};
  for (int i = 0; i < 1000; ++i)
    REQUIRE(std::regex_match(detail::random_uuid(), form));
}

TEST_CASE("uuids from many threads never repeat", "[uuid]") {
  constexpr int threads = 8, each = 25'000;
  std::vector<std::vector<std::string>> drawn(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < each; ++i)
        drawn[t].push_back(detail::random_uuid());
    });
  for (auto& t : pool)
    t.join();
  std::set<std::string> all;
  for (auto& v : drawn)
    all.insert(v.begin(), v.end());
  CHECK(all.size() == threads * each);
}

TEST_CASE("a forked child does not repeat its parent's next ids", "[uuid]") {
  (void)detail::random_uuid();  // any per-thread state now exists
  (void)detail::random_u64();
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto id = detail::random_uuid() + " " + std::to_string(detail::random_u64());
    auto n = ::write(fds[1], id.data(), id.size());
    ::_exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  auto mine = detail::random_uuid() + " " + std::to_string(detail::random_u64());
  char buf[128] = {};
  std::string child;
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    child.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(child.size() > 37);  // "uuid u64"
  CHECK(child != mine);
  CHECK(child.substr(0, 36) != mine.substr(0, 36));
}
