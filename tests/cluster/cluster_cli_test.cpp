// `endure serve --node FILE` as three real node processes, and `endure
// --cluster FILE list|inspect` reading the cluster from outside.
#include "cluster/cluster_fixture.hpp"

#include <csignal>

#include "endure/net/cluster/replication/replication.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

namespace {

/// `endure serve --node` for node `name`, once it says it listens.
std::unique_ptr<test::child_process> serve_node(const cluster_files& files,
                                                const std::string& name) {
  auto child = std::make_unique<test::child_process>(std::vector<std::string>{
    ENDURE_BIN_PATH, "serve", "--node", files.path(name), "--data",
    files.dir.path() + "/serve-" + name, "--mode", "nosync"});
  for (int i = 0; i < 10; ++i) {
    auto line = child->read_line(30s);
    REQUIRE(line);
    if (line->find("listening on") != std::string::npos) {
      CHECK_THAT(*line, Catch::Contains("node " + name) && Catch::Contains("(TLS)"));
      return child;
    }
  }
  FAIL("endure serve --node " << name << " never said it listens");
  return nullptr;
}

std::pair<int, std::string> endure_cli(const cluster_files& files, std::vector<std::string> args) {
  std::vector<std::string> argv{ENDURE_BIN_PATH, "--cluster", files.path("client")};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_command(argv, 60s);
}

} // namespace

SCENARIO("endure serve --node forms a cluster that endure --cluster lists and inspects") {
  cluster_files files;
  auto a = serve_node(files, "a");
  auto b = serve_node(files, "b");
  auto c = serve_node(files, "c");
  client cl{files};
  auto to_a = cl.router(files, "a");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a); }, 20s));
  auto on_b = run_owned_by("b", "cli-");
  auto on_c = run_owned_by("c", "cli-");
  for (auto& id : {on_b, on_c}) {
    REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"seed_pipeline"}, id,
                          to_bytes(id)));
    auto out = ask<run_outcome>(*cl.sys, to_a, svc::wait_atom::value, id, std::int64_t{30'000});
    REQUIRE(out);
    REQUIRE(out->status == run_status::completed);
  }
  auto [code, text] = endure_cli(files, {"list"});
  CHECK(code == 0);
  auto row_of = [&](const std::string& output, const std::string& id) {
    auto at = output.find(id + " ");
    return at == std::string::npos ? std::string{} : output.substr(at, output.find('\n', at) - at);
  };
  CHECK_THAT(row_of(text, on_b), Catch::Contains(" b ") && Catch::Contains("completed"));
  CHECK_THAT(row_of(text, on_c), Catch::Contains(" c ") && Catch::Contains("completed"));
  auto [icode, inspect] = endure_cli(files, {"inspect", on_c});
  CHECK(icode == 0);
  CHECK_THAT(inspect, Catch::Contains("run " + on_c + " on node c: completed"));
  auto [ncode, none] = endure_cli(files, {"inspect", "no-such-run"});
  CHECK(ncode == 1);

  WHEN("node c is killed") {
    c->kill_hard();
    auto [kcode, partial] = endure_cli(files, {"list"});
    THEN("list shows the other nodes' runs and fails naming c") {
      CHECK(kcode == 1);
      CHECK_THAT(row_of(partial, on_b), Catch::Contains(" b "));
      CHECK(row_of(partial, on_c).empty());
    }
  }
}

SCENARIO("endure serve --node refuses a cluster file that names no node") {
  cluster_files files;
  auto [code, text] = test::run_command(
    {ENDURE_BIN_PATH, "serve", "--node", files.path("client"), "--data",
     files.dir.path() + "/refused"},
    30s, {.merge_stderr = true});
  CHECK(code == 2);
  CHECK_THAT(text, Catch::Contains("names no node"));
}

SCENARIO("replicated endure serve --node nodes stream to their standby and stop on SIGTERM",
         "[replication]") {
  cluster_files files{"replication: {mode: standby, wait_ms: 30000}\n"};
  auto a = serve_node(files, "a");
  auto b = serve_node(files, "b");
  auto c = serve_node(files, "c");
  auto id = run_owned_by("a", "served-");
  auto [code, text] = test::run_command({ENDURE_BIN_PATH, "--cluster", files.path("client"),
                                         "list"}, 60s, {.merge_stderr = true});
  CHECK(code == 0);
  // A run started on a is in b's replica of a (the start waited for b).
  client cl{files};
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_c); }, 20s));
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"seed_pipeline"}, id,
                        to_bytes(id)));
  auto out = ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, id, std::int64_t{30'000});
  REQUIRE(out);
  journal_options replica;
  replica.data_dir = cluster::replica_dir(files.dir.path() + "/serve-b", "a");
  replica.read_only = true;
  auto j = journal::open(replica);
  REQUIRE(j);
  auto meta = (*j)->run(id);
  REQUIRE(meta);
  CHECK(meta->status == run_status::completed);
  // Every node stops by itself on SIGTERM (a replicated one once hung in
  // ~actor_system on its replication's detached actors).
  for (auto* node : {&a, &b, &c}) {
    ::kill((*node)->pid(), SIGTERM);
    CHECK((*node)->wait(30s) == 0);
  }
}

SCENARIO("endure serve --node in mode takeover: a killed node's runs go on at its standby and "
         "the node started again stops",
         "[replication][takeover]") {
  cluster_files files{"replication: {mode: takeover, takeover_ms: 500}\n"};
  auto a = serve_node(files, "a");
  auto b = serve_node(files, "b");
  auto c = serve_node(files, "c");
  client cl{files};
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_c); }, 20s));
  auto before = run_owned_by("a", "served-before-");
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"seed_pipeline"},
                        before, to_bytes(before)));
  REQUIRE(ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, before, std::int64_t{30'000}));

  a->kill_hard();
  // b takes a over: a's run is answered again, and a new run of a's ids
  // runs at b (on a's replica).
  auto taken = [&] { return nodes_say(*cl.sys, to_c, "a up (taken over by b)"); };
  REQUIRE(test::eventually(taken, 30s));
  auto meta = ask<run_meta>(*cl.sys, to_c, svc::status_atom::value, before);
  REQUIRE(meta);
  CHECK(meta->status == run_status::completed);
  auto after = run_owned_by("a", "served-after-");
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"seed_pipeline"},
                        after, to_bytes(after)));
  auto out = ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, after, std::int64_t{30'000});
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  auto [code, listing] = test::run_command(
    {ENDURE_BIN_PATH, "--cluster", files.path("client"), "list"}, 60s, {.merge_stderr = true});
  CHECK(code == 0);  // a is not away: b lists its runs
  CHECK_THAT(listing, Catch::Contains(before) && Catch::Contains(after)
                        && Catch::Contains("a up (taken over by b)"));

  // a, started again on its old data directory, is refused and stops.
  auto [acode, said] = test::run_command(
    {ENDURE_BIN_PATH, "serve", "--node", files.path("a"), "--data", files.dir.path() + "/serve-a",
     "--mode", "nosync"},
    60s, {.merge_stderr = true});
  CHECK(acode == 1);
  CHECK_THAT(said, Catch::Contains("taken over by its standby b")
                     && Catch::Contains("empty data directory"));
  // b stops by itself with a's replica open, on SIGTERM.
  for (auto* node : {&b, &c}) {
    ::kill((*node)->pid(), SIGTERM);
    CHECK((*node)->wait(30s) == 0);
  }
}
