// net::auth::token_store as the console's server and `endure token` rely on
// it: a token authenticates its principal until revoked, the file never
// holds a token, damaged or too-open files are refused with the file named,
// and a second store (the running server) sees a revoke after refresh().
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "endure/net/auth/token_store.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::net::auth;
using endure::test::temp_dir;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

token_store open_store(const temp_dir& dir) {
  auto s = token_store::open(dir.path());
  INFO((s ? "" : s.error().message));
  REQUIRE(s);
  return std::move(*s);
}

const std::string valid_entry =
  R"({"name":"alice","role":"admin","sha256":")" + std::string(64, 'a')
  + R"(","created_ms":1,"revoked":false})";

} // namespace

SCENARIO("a damaged token file is an error naming the file and what is wrong", "[net][auth]") {
  temp_dir dir;
  auto file = dir.file("tokens.json");
  struct damage {
    std::string text;
    std::string says;
  };
  auto e = GENERATE_REF(values<damage>({
    {"", "not valid JSON"},
    {R"({"version":1,"tokens":[{"name":"al)", "not valid JSON"},
    {"[]", "top level is not an object"},
    {R"({"tokens":[]})", "\"version\" is missing"},
    {R"({"version":1})", "\"tokens\" is missing"},
    {R"({"version":1,"tokens":{}})", "\"tokens\" is missing or not an array"},
    {R"({"version":1,"tokens":[7]})", "tokens[0] is not an object"},
    {R"({"version":1,"tokens":[{"name":5,"role":"admin","sha256":")" + std::string(64, 'a')
       + R"(","created_ms":1,"revoked":false}]})",
     "tokens[0].name is not a string"},
    {R"({"version":1,"tokens":[{"name":"a","role":"root","sha256":")" + std::string(64, 'a')
       + R"(","created_ms":1,"revoked":false}]})",
     "tokens[0].role is not viewer, approver or admin"},
    {R"({"version":1,"tokens":[{"name":"a","role":"admin","sha256":"abc","created_ms":1,"revoked":false}]})",
     "tokens[0].sha256 is not 64 lowercase hex"},
    {R"({"version":1,"tokens":[{"name":"a","role":"admin","sha256":")" + std::string(64, 'a')
       + R"(","created_ms":"yesterday","revoked":false}]})",
     "tokens[0].created_ms is not an integer"},
    {R"({"version":1,"tokens":[{"name":"a","role":"admin","sha256":")" + std::string(64, 'a')
       + R"(","created_ms":1,"revoked":"no"}]})",
     "tokens[0].revoked is not true or false"},
    {R"({"version":1,"tokens":[{"name":"a","role":"admin","created_ms":1,"revoked":false}]})",
     "tokens[0] has no \"sha256\""},
    {R"({"version":1,"tokens":[)" + valid_entry + "," + valid_entry + "]}",
     "tokens[1] repeats the hash of 'alice'"},
    {R"({"version":1,"tokens":[{"name":"","role":"admin","sha256":")" + std::string(64, 'a')
       + R"(","created_ms":1,"revoked":false}]})",
     "tokens[0].name: principal name is empty"},
  }));
  GIVEN("tokens.json holding: " << e.text) {
    write_file(file, e.text);
    THEN("open refuses it as corrupt_record, naming the file and the fault") {
      auto s = token_store::open(dir.path());
      REQUIRE_FALSE(s);
      CHECK(s.error().code == errc::corrupt_record);
      CHECK_THAT(s.error().message, Catch::Contains(file));
      CHECK_THAT(s.error().message, Catch::Contains(e.says));
    }
  }
}

SCENARIO("a token file written by a newer endure is refused, not guessed at", "[net][auth]") {
  temp_dir dir;
  write_file(dir.file("tokens.json"), R"({"version":2,"tokens":[]})");
  auto s = token_store::open(dir.path());
  REQUIRE_FALSE(s);
  CHECK(s.error().code == errc::newer_record_version);
  CHECK_THAT(s.error().message, Catch::Contains("upgrade endure"));
}

SCENARIO("a token file others can read is refused with the chmod to run", "[net][auth]") {
  temp_dir dir;
  auto file = dir.file("tokens.json");
  auto mode = GENERATE(0644, 0640, 0604, 0660);
  write_file(file, R"({"version":1,"tokens":[]})", static_cast<mode_t>(mode));
  auto s = token_store::open(dir.path());
  REQUIRE_FALSE(s);
  CHECK(s.error().code == errc::invalid_state);
  CHECK_THAT(s.error().message, Catch::Contains("chmod 600 " + file));
}

SCENARIO("writing tokens never follows a link planted in the data directory",
         "[net][auth]") {
  temp_dir dir;
  auto victim = dir.file("victim.txt");
  write_file(victim, "keep me");
  auto s = open_store(dir);
  WHEN("tokens.json.tmp is a symlink to another file") {
    REQUIRE(::symlink(victim.c_str(), dir.file("tokens.json.tmp").c_str()) == 0);
    auto t = s.create("alice", role::admin);
    INFO((t ? "" : t.error().message));
    THEN("the token is written to tokens.json and the linked file is untouched") {
      REQUIRE(t);
      CHECK(read_file(victim) == "keep me");
      CHECK(s.authenticate(*t));
    }
  }
  WHEN("tokens.lock is a symlink to another file") {
    REQUIRE(::symlink(victim.c_str(), dir.file("tokens.lock").c_str()) == 0);
    auto t = s.create("alice", role::admin);
    THEN("the write is refused, naming the lock file") {
      REQUIRE_FALSE(t);
      CHECK_THAT(t.error().message, Catch::Contains("tokens.lock"));
      CHECK(read_file(victim) == "keep me");
    }
  }
}

SCENARIO("tokens are not written into a directory others may write into", "[net][auth]") {
  temp_dir dir;
  auto s = open_store(dir);
  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
  auto t = s.create("alice", role::admin);
  ::chmod(dir.path().c_str(), 0700);
  REQUIRE_FALSE(t);
  CHECK(t.error().code == errc::invalid_state);
  CHECK_THAT(t.error().message, Catch::Contains("chmod go-w"));
}

SCENARIO("principal names are 1 to 200 bytes of printable UTF-8", "[net][auth]") {
  CHECK(check_principal_name("alice"));
  CHECK(check_principal_name("Zoë Müller (ops)"));
  CHECK(check_principal_name(std::string(200, 'x')));
  for (auto bad : {std::string{}, std::string(201, 'x'), std::string{"a\nb"},
                   std::string{"tab\there"}, std::string{"del\x7f"}, std::string{"\xc3"},
                   std::string{"\xc2\x85"} /* NEL, a C1 control */,
                   std::string{"\xc0\xaf"} /* overlong '/' */,
                   std::string{"\xed\xa0\x80"} /* surrogate */}) {
    auto ok = check_principal_name(bad);
    INFO(bad);
    REQUIRE_FALSE(ok);
    CHECK(ok.error().code == errc::invalid_argument);
  }
  temp_dir dir;
  auto store = open_store(dir);
  auto t = store.create("bad\nname", role::admin);
  REQUIRE_FALSE(t);
  CHECK(t.error().code == errc::invalid_argument);
}

SCENARIO("roles: admin implies approver implies viewer", "[net][auth]") {
  CHECK(role_allows(role::admin, role::approver));
  CHECK(role_allows(role::admin, role::viewer));
  CHECK(role_allows(role::approver, role::viewer));
  CHECK(role_allows(role::approver, role::approver));
  CHECK_FALSE(role_allows(role::viewer, role::approver));
  CHECK_FALSE(role_allows(role::approver, role::admin));
  for (auto r : {role::viewer, role::approver, role::admin})
    CHECK(parse_role(to_string(r)) == r);
  CHECK_FALSE(parse_role("Admin"));
  CHECK_FALSE(parse_role(""));
}

SCENARIO("a token authenticates its principal until it is revoked", "[net][auth]") {
  temp_dir dir;
  auto store = open_store(dir);
  GIVEN("an empty data directory") {
    CHECK(store.list().empty());
    CHECK_FALSE(store.authenticate("endure_" + std::string(43, 'A')));
  }
  WHEN("alice (approver) and bob (viewer) get tokens") {
    auto alice = store.create("alice", role::approver);
    auto bob = store.create("bob", role::viewer);
    REQUIRE(alice);
    REQUIRE(bob);
    THEN("each token is endure_ and 43 base64url characters, and they differ") {
      for (auto* t : {&*alice, &*bob}) {
        CHECK(t->size() == 50);
        CHECK(t->rfind("endure_", 0) == 0);
        CHECK(t->find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 7)
              == std::string::npos);
      }
      CHECK(*alice != *bob);
    }
    THEN("each authenticates as its principal and role") {
      auto a = store.authenticate(*alice);
      REQUIRE(a);
      CHECK(a->name == "alice");
      CHECK(a->granted == role::approver);
      auto b = store.authenticate(*bob);
      REQUIRE(b);
      CHECK(b->name == "bob");
      CHECK(b->granted == role::viewer);
    }
    THEN("the file is mode 0600 and holds neither token, only their hashes") {
      struct stat st{};
      REQUIRE(::stat(dir.file("tokens.json").c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
      auto text = read_file(dir.file("tokens.json"));
      CHECK(text.find(*alice) == std::string::npos);
      CHECK(text.find(alice->substr(7)) == std::string::npos);
      CHECK(text.find(bob->substr(7)) == std::string::npos);
      CHECK_THAT(text, Catch::Contains("\"alice\""));
      CHECK_FALSE(std::ifstream(dir.file("tokens.json.tmp")).good());
    }
    THEN("a wrong, empty, truncated, extended or prefix-less token is refused") {
      auto wrong = *alice;
      wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
      for (auto t : {wrong, std::string{}, alice->substr(0, 49), *alice + "A",
                     alice->substr(7), std::string{"endure_"}}) {
        auto r = store.authenticate(t);
        INFO(t);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::permission_denied);
        CHECK(r.error().message == "unknown or revoked token");
      }
    }
    THEN("a second token for alice is refused until hers is revoked") {
      auto again = store.create("alice", role::admin);
      REQUIRE_FALSE(again);
      CHECK(again.error().code == errc::already_exists);
      CHECK_THAT(again.error().message, Catch::Contains("revoke it first"));
      REQUIRE(store.revoke("alice"));
      auto fresh = store.create("alice", role::admin);
      REQUIRE(fresh);
      CHECK_FALSE(store.authenticate(*alice));
      auto a = store.authenticate(*fresh);
      REQUIRE(a);
      CHECK(a->granted == role::admin);
      CHECK(store.list().size() == 3);
    }
    THEN("revoking refuses the token, keeps the entry and leaves bob's") {
      REQUIRE(store.revoke("alice"));
      auto r = store.authenticate(*alice);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::permission_denied);
      CHECK(store.authenticate(*bob));
      auto entries = store.list();
      REQUIRE(entries.size() == 2);
      CHECK(entries[0].name == "alice");
      CHECK(entries[0].revoked);
      CHECK_FALSE(entries[1].revoked);
      auto twice = store.revoke("alice");
      REQUIRE_FALSE(twice);
      CHECK(twice.error().code == errc::invalid_state);
      auto nobody = store.revoke("carol");
      REQUIRE_FALSE(nobody);
      CHECK(nobody.error().code == errc::not_found);
    }
    THEN("a store opened later reads the same principals") {
      auto again = open_store(dir);
      auto a = again.authenticate(*alice);
      REQUIRE(a);
      CHECK(a->name == "alice");
      REQUIRE(again.list().size() == 2);
      CHECK(again.list()[1].created_ms > 0);
    }
  }
}

SCENARIO("a running server's store sees a revoke after refresh()", "[net][auth]") {
  temp_dir dir;
  auto cli = open_store(dir);
  auto token = cli.create("alice", role::admin);
  REQUIRE(token);
  auto server = open_store(dir);
  REQUIRE(server.authenticate(*token));
  WHEN("nothing changed") {
    auto r = server.refresh();
    REQUIRE(r);
    CHECK_FALSE(*r);
  }
  WHEN("another store revokes alice") {
    REQUIRE(cli.revoke("alice"));
    THEN("the server still accepts her token until it refreshes, then refuses it") {
      CHECK(server.authenticate(*token));
      auto r = server.refresh();
      REQUIRE(r);
      CHECK(*r);
      CHECK_FALSE(server.authenticate(*token));
    }
  }
  WHEN("another store adds bob") {
    auto bob = cli.create("bob", role::viewer);
    REQUIRE(bob);
    REQUIRE(server.refresh());
    CHECK(server.authenticate(*bob));
  }
  WHEN("a change made through a stale store keeps the other store's change") {
    auto bob = server.create("bob", role::viewer);
    REQUIRE(bob);
    REQUIRE(cli.revoke("alice"));  // cli's copy predates bob
    auto fresh = open_store(dir);
    CHECK(fresh.authenticate(*bob));
    CHECK_FALSE(fresh.authenticate(*token));
  }
  WHEN("the file is damaged while the server runs") {
    write_file(dir.file("tokens.json"), R"({"version":1,"tok)");
    THEN("refresh reports it and every token is refused until the file is good again") {
      auto r = server.refresh();
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::corrupt_record);
      auto a = server.authenticate(*token);
      REQUIRE_FALSE(a);
      CHECK(a.error().code == errc::corrupt_record);
      CHECK(::unlink(dir.file("tokens.json").c_str()) == 0);
      auto carol = cli.create("carol", role::viewer);  // a fresh, good file
      REQUIRE(carol);
      auto again = server.refresh();
      REQUIRE(again);
      CHECK(*again);
      CHECK(server.authenticate(*carol));
      CHECK_FALSE(server.authenticate(*token));
    }
  }
}
