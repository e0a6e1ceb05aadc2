// `endure token` as an operator runs it: create prints the token once on
// stdout (the not-shown-again notice on stderr), list shows principals
// without tokens or hashes, revoke refuses the token from then on; bad
// usage exits 2, refusals exit 1, every message starts "endure: ".
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli/cli_runner.hpp"
#include "endure/net/auth/token_store.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
namespace auth = endure::net::auth;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

SCENARIO("endure token refuses bad usage with exit 2", "[cli][token]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto r = run_endure({"--data", data, "token", "create", "alice", "--role", "root"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("endure: unknown role 'root'"));
  r = run_endure({"--data", data, "token", "create", "alice"});
  CHECK(r.code == 2);
  r = run_endure({"--data", data, "token", "create", "bad\nname", "--role", "viewer"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("endure: principal name contains a control character"));
  r = run_endure({"--data", data, "token", "revoke"});
  CHECK(r.code == 2);
  CHECK_FALSE(std::ifstream(data + "/tokens.json").good());
}

SCENARIO("endure token create, list and revoke end to end", "[cli][token]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto created = run_endure({"--data", data, "token", "create", "alice", "--role", "approver"});
  INFO(created.err);
  REQUIRE(created.code == 0);
  auto token = created.out.substr(0, created.out.find('\n'));
  CHECK(created.out == token + "\n");
  CHECK(token.size() == 50);
  CHECK_THAT(created.err, Catch::StartsWith("endure: ") && Catch::Contains("not shown again"));

  THEN("the token authenticates alice and the file does not hold it") {
    auto store = auth::token_store::open(data);
    REQUIRE(store);
    auto who = store->authenticate(token);
    REQUIRE(who);
    CHECK(who->name == "alice");
    CHECK(who->granted == auth::role::approver);
    CHECK(slurp(data + "/tokens.json").find(token.substr(7)) == std::string::npos);
  }
  THEN("a second create for alice is refused with exit 1, saying to revoke first") {
    auto again = run_endure({"--data", data, "token", "create", "alice", "--role", "admin"});
    CHECK(again.code == 1);
    CHECK_THAT(again.err, Catch::StartsWith("endure: ") && Catch::Contains("revoke it first"));
    CHECK(again.out.empty());
  }
  THEN("list shows alice active, without the token or its hash") {
    auto list = run_endure({"--data", data, "token", "list"});
    REQUIRE(list.code == 0);
    CHECK_THAT(list.out, Catch::StartsWith("NAME  ROLE     CREATED                  STATUS\n"));
    CHECK_THAT(list.out, Catch::Matches("(.|\n)*alice approver 20\\d\\d-\\d\\d-\\d\\dT[0-9:.]+Z "
                                        "active\n"));
    CHECK(list.out.find(token.substr(7)) == std::string::npos);
  }
  THEN("revoke refuses the token from then on and list says revoked") {
    auto server = auth::token_store::open(data);
    REQUIRE(server);
    auto revoked = run_endure({"--data", data, "token", "revoke", "alice"});
    REQUIRE(revoked.code == 0);
    CHECK(revoked.out == "revoked the token of 'alice'\n");
    REQUIRE(server->refresh());
    CHECK_FALSE(server->authenticate(token));
    auto list = run_endure({"--data", data, "token", "list"});
    CHECK_THAT(list.out, Catch::Contains(" revoked\n"));
    auto twice = run_endure({"--data", data, "token", "revoke", "alice"});
    CHECK(twice.code == 1);
    CHECK_THAT(twice.err, Catch::StartsWith("endure: ") && Catch::Contains("already revoked"));
    auto nobody = run_endure({"--data", data, "token", "revoke", "zed"});
    CHECK(nobody.code == 1);
    CHECK_THAT(nobody.err, Catch::StartsWith("endure: no principal named 'zed'"));
  }
  THEN("a token file others can read stops every command with the chmod to run") {
    REQUIRE(::chmod((data + "/tokens.json").c_str(), 0644) == 0);
    for (auto args : std::vector<std::vector<std::string>>{
           {"token", "list"}, {"token", "revoke", "alice"},
           {"token", "create", "bob", "--role", "viewer"}}) {
      args.insert(args.begin(), {"--data", data});
      auto r = run_endure(args);
      CHECK(r.code == 1);
      CHECK_THAT(r.err, Catch::StartsWith("endure: ") && Catch::Contains("chmod 600"));
    }
  }
  THEN("a damaged token file stops list with the file named") {
    std::ofstream(data + "/tokens.json") << "{\"version\":1,\"tokens\":[{";
    auto r = run_endure({"--data", data, "token", "list"});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains(data + "/tokens.json: damaged token file"));
  }
}

SCENARIO("endure token list on a fresh data directory says how to begin", "[cli][token]") {
  temp_dir dir;
  auto r = run_endure({"--data", dir.file("data"), "token", "list"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("no tokens in ") && Catch::Contains("endure token create"));
}
