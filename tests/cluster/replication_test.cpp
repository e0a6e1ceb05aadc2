// Journal replication to a standby (net/cluster/replication/), with three
// real node processes over TLS on 127.0.0.1: a's journal streams to b
// (the next node in the file). What a user relies on: a step acknowledged
// on a is in b's replica with the same result, even when a dies by
// SIGKILL right after; a commit waits for an absent standby (up to
// wait_ms) and the standby is caught up when it returns; a restarted owner
// streams again.
#include "cluster/cluster_fixture.hpp"

#include <filesystem>
#include <future>
#include <set>

#include "endure/actors/events.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/net/cluster/replication/replication.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

namespace {

std::string replicated(int wait_ms) {
  return "replication: {mode: standby, wait_ms: " + std::to_string(wait_ms) + "}\n";
}

std::string replica_of_a(const cluster_files& files) {
  return cluster::replica_dir(files.dir.path() + "/data-b", "a");
}

} // namespace

SCENARIO("every step acknowledged on a node is in its standby's replica after a kill -9",
         "[cluster][replication]") {
  cluster_files files{replicated(60'000)};
  auto b = std::make_unique<node_process>(files, "b");
  node_process c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a");
  client cl{files};
  auto router = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, router); }, 10s));

  std::vector<std::string> runs;
  for (int i = 0; i < 3; ++i) {
    runs.push_back(run_owned_by("a", "rep-" + std::to_string(i) + "-"));
    auto started = ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"steps"},
                                 runs.back(), to_bytes(std::string{"400"}));
    REQUIRE(started);
  }
  std::set<acked_step> acked;
  for (int i = 0; i < 2000 && acked.size() < 150; ++i) {
    auto line = a->child->read_line(10s);
    REQUIRE(line);
    if (auto ack = parse_ack(*line))
      acked.insert(*ack);
  }
  a->child->kill_hard();
  for (int i = 0; i < 5000; ++i) {  // what it printed before it died
    auto line = a->child->read_line(2s);
    if (!line)
      break;
    if (auto ack = parse_ack(*line))
      acked.insert(*ack);
  }
  REQUIRE(acked.size() >= 150);

  // Every acknowledged step is in the replica, with the result a returned;
  // and every step the replica holds is the one a's own journal holds.
  std::map<std::string, std::map<std::string, std::string>> replica, owner;
  for (auto& r : runs) {
    replica[r] = completed_steps(replica_of_a(files), r);
    owner[r] = completed_steps(files.dir.path() + "/data-a", r);
  }
  for (auto& ack : acked) {
    INFO(ack.run << " step " << ack.step);
    auto& steps = replica[ack.run];
    auto it = steps.find("s" + std::to_string(ack.step));
    REQUIRE(it != steps.end());
    CHECK(it->second == ack.result);
    CHECK(it->second == "a:" + std::to_string(ack.step));
  }
  for (auto& [run, steps] : replica)
    for (auto& [name, result] : steps) {
      INFO(run << " " << name);
      REQUIRE(owner[run].count(name) == 1);
      CHECK(owner[run][name] == result);
    }

  // a restarts (a new epoch): its runs resume there and the replica
  // follows them to the end.
  a = std::make_unique<node_process>(files, "a");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, router); }, 10s));
  for (auto& r : runs) {
    auto out = ask<run_outcome>(*cl.sys, router, svc::wait_atom::value, r, std::int64_t{60'000});
    INFO(r << ": " << (out ? "" : out.error().message));
    REQUIRE(out);
    CHECK(out->value<std::string>() == "a:400");
  }
  REQUIRE(test::eventually(
    [&] {
      for (auto& r : runs)
        if (completed_steps(replica_of_a(files), r).size() != 400)
          return false;
      return true;
    },
    20s));
  for (auto& r : runs)
    CHECK(completed_steps(replica_of_a(files), r) == completed_steps(files.dir.path() + "/data-a", r));
}

SCENARIO("a commit waits for an absent standby and goes on once it returns and catches up",
         "[cluster][replication]") {
  cluster_files files{replicated(60'000)};
  node_process c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a");  // b, its standby, is not there yet
  client cl{files};
  auto router = cl.router(files, "c");
  auto id = run_owned_by("a", "wait-");
  // Nothing is acknowledged while the standby is away (wait_ms: 60 s):
  // not even the start (the run's creation is a commit).
  auto started = std::async(std::launch::async, [&] {
    return ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"steps"}, id,
                         to_bytes(std::string{"5"}));
  });
  CHECK(started.wait_for(1500ms) == std::future_status::timeout);
  auto early = a->child->read_line(100ms);
  CHECK_FALSE(early);

  node_process b{files, "b"};
  REQUIRE(started.get());
  auto out = ask<run_outcome>(*cl.sys, router, svc::wait_atom::value, id, std::int64_t{30'000});
  REQUIRE(out);  // the reply is an effect: it waits for the standby too
  CHECK(out->value<std::string>() == "a:5");
  auto steps = completed_steps(replica_of_a(files), id);
  CHECK(steps.size() == 5);
  CHECK(steps["s5"] == "a:5");
}

SCENARIO("past wait_ms a node goes on alone and its standby catches up when it returns",
         "[cluster][replication]") {
  cluster_files files{replicated(300)};
  node_process c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a");
  client cl{files};
  auto router = cl.router(files, "c");
  auto id = run_owned_by("a", "alone-");
  auto started = ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"steps"}, id,
                               to_bytes(std::string{"20"}));
  REQUIRE(started);
  auto out = ask<run_outcome>(*cl.sys, router, svc::wait_atom::value, id, std::int64_t{30'000});
  REQUIRE(out);
  CHECK(out->value<std::string>() == "a:20");
  CHECK(completed_steps(replica_of_a(files), id).empty());

  node_process b{files, "b"};
  REQUIRE(test::eventually([&] { return completed_steps(replica_of_a(files), id).size() == 20; },
                           20s));
}

SCENARIO("a replica a kill -9 left aside mid-install is moved back when its standby starts",
         "[cluster][replication]") {
  // install_copy moves DIR to DIR.old, then the copy to DIR: a kill -9
  // between the two renames leaves only DIR.old, the last whole replica.
  cluster_files files{replicated(300)};
  auto replica = replica_of_a(files);
  {
    journal_options o;
    o.data_dir = replica + ".old";
    auto j = journal::open(o);
    REQUIRE(j);
    run_meta kept;
    kept.id = "kept";
    kept.workflow = "steps";
    REQUIRE((*j)->create_run_if_absent(kept));
  }
  // b starts with its owner a away for good: the replica is readable at
  // its place (endure --data DIR/replicas/a inspect) all the same.
  node_process b{files, "b"};
  auto back = [&] {
    journal_options o;
    o.data_dir = replica;
    o.read_only = true;
    auto j = std::filesystem::exists(replica + "/data.mdb") ? journal::open(o)
                                                             : expected<std::unique_ptr<journal>>{
                                                                 make_error(errc::not_found, "")};
    return j && (*j)->run("kept") && !std::filesystem::exists(replica + ".old");
  };
  CHECK(test::eventually(back, 10s));
}
