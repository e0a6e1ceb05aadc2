// The cluster file (net/cluster/cluster_config.hpp): what it refuses, with
// line and field; and rendezvous placement (placement.hpp).
#include <catch2/catch.hpp>

#include <map>

#include "endure/net/cluster/cluster_config.hpp"
#include "endure/net/cluster/placement.hpp"

using namespace endure;

namespace {

const std::string certs = std::string{CLUSTER_CERTS_DIR};
const std::string tls = "tls: {certificate: node-a.pem, key: node-a.key, ca: cluster-ca.pem}\n";
const std::string nodes =
  "nodes:\n  - {name: a, address: 127.0.0.1:7101}\n  - {name: b, address: 127.0.0.1:7102}\n";

expected<cluster::cluster_config> parse(const std::string& text, std::string_view self = {}) {
  return cluster::parse_cluster_config(text, "cluster.yaml", certs, self);
}

std::string refusal(const std::string& text, std::string_view self = {}) {
  auto c = parse(text, self);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::invalid_argument);
  return c.error().message;
}

} // namespace

TEST_CASE("a cluster file reads with its nodes and TLS files made absolute") {
  auto c = parse("node: b\n" + tls + nodes + "reconnect_ms: 100\n");
  REQUIRE(c);
  CHECK(c->self == "b");
  CHECK(c->names() == std::vector<std::string>{"a", "b"});
  CHECK(c->find("b")->port == 7102);
  CHECK(c->tls.certificate == certs + "/node-a.pem");
  CHECK(c->reconnect == std::chrono::milliseconds{100});
  CHECK(c->failure_detection == std::chrono::milliseconds{15000});
  CHECK(parse(tls + nodes, "a")->self == "a");
  CHECK(parse(tls + nodes + "failure_detection_ms: 750\n", "a")->failure_detection
        == std::chrono::milliseconds{750});
  CHECK(parse(tls + nodes + "failure_detection_ms: 0\n", "a")->failure_detection.count() == 0);
  CHECK_THAT(refusal(tls + nodes + "failure_detection_ms: 50\n"),
             Catch::Contains("failure_detection_ms") && Catch::Contains("100 to"));
}

TEST_CASE("a bad cluster file is refused naming the line and field") {
  CHECK_THAT(refusal(nodes), Catch::Contains("tls") && Catch::Contains("required"));
  CHECK_THAT(refusal(tls), Catch::Contains("nodes") && Catch::Contains("required"));
  CHECK_THAT(refusal(tls + "nodes:\n  - {name: a, address: 127.0.0.1}\n"),
             Catch::Contains("cluster.yaml:3:") && Catch::Contains("nodes[0].address"));
  CHECK_THAT(refusal(tls + "nodes:\n  - {name: a, address: 'h:70000'}\n"),
             Catch::Contains("65535"));
  CHECK_THAT(refusal(tls + nodes + "  - {name: a, address: 127.0.0.1:7103}\n"),
             Catch::Contains("listed twice") && Catch::Contains("cluster.yaml:5:"));
  CHECK_THAT(refusal(tls + nodes + "  - {name: c, address: 127.0.0.1:7101}\n"),
             Catch::Contains("share the address"));
  CHECK_THAT(refusal("tls: {certificate: missing.pem, key: node-a.key, ca: cluster-ca.pem}\n"
                     + nodes),
             Catch::Contains("cannot read") && Catch::Contains("missing.pem"));
  CHECK_THAT(refusal("tls: {certificate: node-a.pem, key: node-a.key}\n" + nodes),
             Catch::Contains("tls.ca"));
  CHECK_THAT(refusal("node: z\n" + tls + nodes), Catch::Contains("'z'"));
  CHECK_THAT(refusal(tls + nodes, "z"), Catch::Contains("'z'") && Catch::Contains("a, b"));
  CHECK_THAT(refusal(tls + nodes + "port: 1\n"), Catch::Contains("port"));
  CHECK_THAT(refusal(tls + nodes + "reconnect_ms: 1\n"), Catch::Contains("reconnect_ms"));
  CHECK_THAT(refusal("nodes: [\n"), Catch::Contains("not valid YAML"));
  CHECK_THAT(refusal(""), Catch::Contains("empty"));
  auto missing = cluster::load_cluster_config(certs + "/no-such.yaml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::io_error);
}

TEST_CASE("rendezvous placement: the same order on every node and little moves when one goes") {
  std::vector<std::string> three = {"a", "b", "c"}, reordered = {"c", "a", "b"}, two = {"a", "c"};
  std::map<std::string, int> owners;
  int moved = 0;
  for (int i = 0; i < 3000; ++i) {
    auto id = "run-" + std::to_string(i);
    auto rank = cluster::rank_nodes(id, three);
    REQUIRE(rank.size() == 3);
    CHECK(rank == cluster::rank_nodes(id, reordered));
    ++owners[rank[0]];
    // Without b, a run keeps its owner unless b owned it; then the next.
    auto without_b = cluster::rank_nodes(id, two);
    if (rank[0] != "b")
      CHECK(without_b[0] == rank[0]);
    else
      CHECK(without_b[0] == rank[1]);
    moved += rank[0] == "b";
  }
  for (auto& n : three)  // each owns about a third
    CHECK(owners[n] > 800);
  CHECK(moved < 1200);
}

// A TLS file that exists but does not load (not PEM, a directory, a key
// that is not the certificate's) was accepted: the node then printed ready
// and died (std::terminate, "cannot load certificate" thrown on
// caf_openssl's multiplexer thread) at the first connection.
TEST_CASE("TLS files that exist but do not load are refused naming the field") {
  auto with = [](const std::string& cert, const std::string& key, const std::string& ca) {
    return "tls: {certificate: " + cert + ", key: " + key + ", ca: " + ca + "}\n" + nodes;
  };
  CHECK_THAT(refusal(with("node-a.key", "node-a.key", "cluster-ca.pem")),
             Catch::Contains("tls.certificate"));
  CHECK_THAT(refusal(with(".", "node-a.key", "cluster-ca.pem")),
             Catch::Contains("tls.certificate"));
  CHECK_THAT(refusal(with("node-a.pem", "node-a.pem", "cluster-ca.pem")),
             Catch::Contains("tls.key"));
  CHECK_THAT(refusal(with("node-a.pem", "node-b.key", "cluster-ca.pem")),
             Catch::Contains("tls.key") && Catch::Contains("mismatch"));
  CHECK_THAT(refusal(with("node-a.pem", "node-a.key", "node-a.key")), Catch::Contains("tls.ca"));
  CHECK_THAT(refusal(with("node-a.pem", "node-a.key", ".")), Catch::Contains("tls.ca"));
  CHECK(parse(with("node-a.pem", "node-a.key", "cluster-ca.pem")));
}

TEST_CASE("replication: each node's standby is the next node and a bad section is refused") {
  auto three = nodes + "  - {name: c, address: 127.0.0.1:7103}\n";
  auto c = parse(tls + three + "replication: {mode: standby, wait_ms: 500, buffer_mib: 8}\n", "a");
  REQUIRE(c);
  CHECK(c->replication.standby);
  CHECK(c->replication.wait == std::chrono::milliseconds{500});
  CHECK(c->replication.buffer == std::size_t{8} << 20);
  CHECK(c->standby_of("a") == "b");
  CHECK(c->standby_of("c") == "a");
  auto off = parse(tls + three, "a");
  REQUIRE(off);
  CHECK_FALSE(off->replication.standby);
  CHECK(off->standby_of("a").empty());
  CHECK_THAT(refusal(tls + three + "replication: {mode: mirror}\n"),
             Catch::Contains("replication.mode") && Catch::Contains("'mirror'"));
  CHECK_THAT(refusal(tls + three + "replication: {mode: standby, wait_ms: -1}\n"),
             Catch::Contains("replication.wait_ms"));
  CHECK_THAT(refusal(tls + three + "replication: {mode: standby, buffer_mib: 0}\n"),
             Catch::Contains("replication.buffer_mib") && Catch::Contains("1 to 65536"));
  CHECK_THAT(refusal(tls + three + "replication: {mode: standby, standby: b}\n"),
             Catch::Contains("standby"));
  CHECK_THAT(refusal(tls + "nodes:\n  - {name: a, address: 127.0.0.1:7101}\n"
                     + "replication: {mode: standby}\n"),
             Catch::Contains("second node"));
}

TEST_CASE("replication mode takeover: a takeover time and no commit acknowledged alone") {
  auto three = nodes + "  - {name: c, address: 127.0.0.1:7103}\n";
  auto c = parse(tls + three + "replication: {mode: takeover, takeover_ms: 1500}\n", "a");
  REQUIRE(c);
  CHECK(c->replication.standby);
  CHECK(c->replication.takeover == std::chrono::milliseconds{1500});
  CHECK(c->standby_of("a") == "b");
  auto fallback = parse(tls + three + "replication: {mode: takeover}\n", "a");
  REQUIRE(fallback);
  CHECK(fallback->replication.takeover == std::chrono::milliseconds{5000});
  auto standby = parse(tls + three + "replication: {mode: standby}\n", "a");
  REQUIRE(standby);
  CHECK(standby->replication.takeover.count() == 0);
  CHECK_THAT(refusal(tls + three + "replication: {mode: takeover, wait_ms: 500}\n"),
             Catch::Contains("replication.wait_ms") && Catch::Contains("mode takeover"));
  CHECK_THAT(refusal(tls + three + "replication: {mode: standby, takeover_ms: 500}\n"),
             Catch::Contains("replication.takeover_ms") && Catch::Contains("mode takeover only"));
  CHECK_THAT(refusal(tls + three + "replication: {mode: takeover, takeover_ms: 50}\n"),
             Catch::Contains("replication.takeover_ms") && Catch::Contains("100 to"));
  CHECK_THAT(refusal(tls + nodes + "replication: {mode: takeover}\n"),
             Catch::Contains("at least 3 nodes") && Catch::Contains("majority"));
}

TEST_CASE("a node name that is not a plain directory name is refused") {
  // A standby keeps a node's replica in DATA_DIR/replicas/NAME.
  for (auto bad : {"..", ".", ".hidden", "a b", "a/b", "é"})
    CHECK_THAT(refusal(tls + "nodes:\n  - {name: '" + std::string{bad}
                       + "', address: 127.0.0.1:7101}\n"),
               Catch::Contains("nodes[0].name") && Catch::Contains("letters, digits"));
  CHECK(parse(tls + "nodes:\n  - {name: node-1.eu_west, address: 127.0.0.1:7101}\n"));
}
