// The memory store over real LMDB files: what a query returns (TTL,
// namespaces, replacement), bad input refused with messages naming the
// entry, the graph path agreeing with an exact search, and a reopen that
// answers as before (a checkpoint, rows after it, a damaged row, a damaged
// graph file), also after kill -9 of a writing child process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>

#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/state/detail/memory_rows.hpp"
#include "endure/actors/state/memory_store.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/persistence/journal.hpp"
#include "state/memory_child.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::state;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t dim = 32;

std::unique_ptr<journal> open_journal(const std::string& dir) {
  auto j = journal::open({.data_dir = dir, .mode = durability::nosync});
  REQUIRE(j);
  return std::move(*j);
}

memory_options small(std::size_t brute_force_below = 2'000) {
  memory_options o;
  o.dim = dim;
  o.brute_force_below = brute_force_below;
  o.checkpoint_every = 0;
  return o;
}

std::unique_ptr<memory_store> open_store(journal& j, memory_options o) {
  auto m = memory_store::open(j, o);
  INFO((m ? "" : m.error().to_string()));
  REQUIRE(m);
  return std::move(*m);
}

std::vector<float> random_unit(std::mt19937& rng) { return test::random_unit(rng, dim); }

/// `v` moved a little: its nearest stored vector is v's own.
std::vector<float> near(std::vector<float> v, std::mt19937& rng) {
  std::normal_distribution<float> n(0, 0.05f);
  for (auto& x : v)
    x += n(rng);
  escalation::normalize(v);
  return v;
}

/// A store over a fresh journal and a seeded source of vectors.
struct fresh_store {
  test::temp_dir dir;
  std::unique_ptr<journal> j = open_journal(dir.path());
  std::unique_ptr<memory_store> m;
  std::mt19937 rng;
  explicit fresh_store(std::uint32_t seed, memory_options o = small())
    : m(open_store(*j, o)), rng(seed) {}
};

memory_entry entry(std::string ns, std::string key, std::vector<float> v,
                   std::int64_t expires = 0) {
  memory_entry e;
  e.ns = std::move(ns);
  e.key = std::move(key);
  e.text = "text of " + e.key;
  e.embedding = std::move(v);
  e.from = {"run-1", "session-1", 3};
  e.created_ms = 100;
  e.expires_ms = expires;
  return e;
}

std::vector<std::string> keys_of(const std::vector<memory_hit>& hits) {
  std::vector<std::string> out;
  for (auto& h : hits)
    out.push_back(h.key);
  return out;
}

std::vector<std::string> query_keys(const memory_store& m, std::string_view ns,
                                    const std::vector<float>& q, std::size_t k,
                                    std::int64_t now = 0) {
  auto hits = m.query(ns, q, k, now);
  INFO((hits ? "" : hits.error().to_string()));
  REQUIRE(hits);
  return keys_of(*hits);
}

} // namespace

SCENARIO("the memory store refuses bad input with a message naming the entry", "[memory]") {
  fresh_store f(1);
  auto& [dir, j, m, rng] = f;
  auto v = random_unit(rng);
  auto refused = [&](memory_entry e, const std::string& says) {
    auto r = m->put(std::move(e));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
    CHECK_THAT(r.error().message, Catch::Contains(says));
  };
  WHEN("an entry is malformed in any one way") {
    refused(entry("", "k", v), "namespace");
    refused(entry("a//b", "k", v), "'a//b'");
    refused(entry("/a", "k", v), "namespace");
    refused(entry("a b", "k", v), "namespace");
    refused(entry(std::string(101, 'a'), "k", v), "namespace");
    refused(entry("facts", "", v), "key must be 1 to 200 bytes");
    refused(entry("facts", std::string(201, 'k'), v), "not 201");
    refused(entry("facts", "short", std::vector<float>(dim + 1, 0.1f)), "'facts'/'short'");
    refused(entry("facts", "wide", std::vector<float>(dim + 1, 0.1f)), "33 numbers");
    auto nan = v;
    nan[3] = std::numeric_limits<float>::quiet_NaN();
    refused(entry("facts", "nan", nan), "not a finite number");
    refused(entry("facts", "zero", std::vector<float>(dim, 0.0f)), "length 1");
    auto longer = v;
    longer[0] += 1;
    refused(entry("facts", "long", longer), "'facts'/'long'");
    refused(entry("facts", "past", v, -5), "expires_ms");
    THEN("nothing was stored") {
      CHECK(m->size() == 0);
      CHECK(*j->count_rows(side_table::memory, "") == 0);
    }
  }
  WHEN("a query is malformed") {
    REQUIRE(m->put(entry("facts", "a", v)));
    auto k0 = m->query("facts", v, 0, 0);
    REQUIRE_FALSE(k0);
    CHECK_THAT(k0.error().message, Catch::Contains("k must be 1"));
    auto wide = m->query("facts", std::vector<float>(dim * 2, 0.125f), 1, 0);
    REQUIRE_FALSE(wide);
    CHECK_THAT(wide.error().message, Catch::Contains("'facts'") && Catch::Contains("64 numbers"));
    auto bad_ns = m->query("fa cts", v, 1, 0);
    REQUIRE_FALSE(bad_ns);
    CHECK(bad_ns.error().code == errc::invalid_argument);
    CHECK_FALSE(m->get("", "a", 0));
  }
}

SCENARIO("a memory query with TTL expiry: an entry is found until it expires, then never",
         "[memory]") {
  fresh_store f(2);
  auto& [dir, j, m, rng] = f;
  auto lasting = random_unit(rng);
  auto brief = random_unit(rng);
  REQUIRE(m->put(entry("facts", "lasting", lasting)));
  REQUIRE(m->put(entry("facts", "brief", brief, /*expires*/ 1'000)));
  THEN("before its expiry it is a hit and can be read") {
    CHECK(query_keys(*m, "facts", brief, 1, 999) == std::vector<std::string>{"brief"});
    CHECK(query_keys(*m, "facts", brief, 5, 999).size() == 2);
    auto got = m->get("facts", "brief", 999);
    REQUIRE(got);
    REQUIRE(*got);
    CHECK((*got)->text == "text of brief");
    CHECK((*got)->from == provenance{"run-1", "session-1", 3});
  }
  THEN("at and after its expiry no query or read returns it, before any purge") {
    CHECK(query_keys(*m, "facts", brief, 5, 1'000) == std::vector<std::string>{"lasting"});
    CHECK(query_keys(*m, "facts", brief, 5, 5'000) == std::vector<std::string>{"lasting"});
    auto got = m->get("facts", "brief", 1'000);
    REQUIRE(got);
    CHECK_FALSE(*got);
  }
  WHEN("expired entries are purged") {
    auto purged = m->purge_expired(1'000);
    REQUIRE(purged);
    CHECK(*purged == 1);
    THEN("their rows are gone, the others stay, and a reopen agrees") {
      CHECK(m->size() == 1);
      CHECK(*j->count_rows(side_table::memory, "") == 1);
      CHECK(query_keys(*m, "facts", brief, 5, 0) == std::vector<std::string>{"lasting"});
      m.reset();
      m = open_store(*j, small());
      CHECK(m->opened().entries == 1);
      CHECK(query_keys(*m, "facts", brief, 5, 0) == std::vector<std::string>{"lasting"});
      CHECK(*m->purge_expired(1'000) == 0);
    }
  }
}

SCENARIO("memory namespaces are isolated and a put replaces its key", "[memory]") {
  fresh_store f(3);
  auto& [dir, j, m, rng] = f;
  auto v = random_unit(rng);
  auto w = random_unit(rng);
  REQUIRE(m->put(entry("agent", "k", v)));
  REQUIRE(m->put(entry("agent/child", "k", v)));
  REQUIRE(m->put(entry("agent/child", "other", w)));
  THEN("a query sees its own namespace only, not its children nor its parent") {
    CHECK(query_keys(*m, "agent", v, 10) == std::vector<std::string>{"k"});
    CHECK(query_keys(*m, "agent/child", v, 10) == std::vector<std::string>{"k", "other"});
    CHECK(query_keys(*m, "nobody", v, 10).empty());
  }
  WHEN("a key of the parent namespace spells the child's namespace and key") {
    auto tricky = entry("agent", "/childk", w);
    tricky.text = "the parent's";
    auto child = entry("agent/childk", "x", w);
    REQUIRE(m->put(tricky));
    REQUIRE(m->put(entry("agent/child", "k", v)));
    REQUIRE(m->put(child));
    THEN("each is its own entry, in memory and in its row") {
      CHECK(m->size() == 5);
      CHECK(*j->count_rows(side_table::memory, "") == 5);
      auto got = m->get("agent", "/childk", 0);
      REQUIRE(got);
      REQUIRE(*got);
      CHECK((*got)->text == "the parent's");
    }
  }
  WHEN("an entry of one namespace is erased") {
    CHECK(*m->erase("agent", "k"));
    CHECK_FALSE(*m->erase("agent", "k"));
    THEN("the same key elsewhere stays") {
      CHECK(query_keys(*m, "agent", v, 10).empty());
      CHECK(query_keys(*m, "agent/child", v, 1) == std::vector<std::string>{"k"});
    }
  }
  WHEN("a key is put again with another text and vector") {
    auto e = entry("agent/child", "k", w);
    e.text = "replaced";
    REQUIRE(m->put(e));
    THEN("the key is one entry, with the new text at the new vector") {
      CHECK(m->size() == 3);
      auto hits = m->query("agent/child", w, 10, 0);
      REQUIRE(hits);
      REQUIRE(hits->size() == 2);
      auto replaced = std::find_if(hits->begin(), hits->end(),
                                   [](auto& h) { return h.key == "k"; });
      REQUIRE(replaced != hits->end());
      CHECK(replaced->text == "replaced");
      CHECK(replaced->score == Approx(1.0).margin(1e-5));
    }
  }
}

SCENARIO("above the brute-force size the graph answers as an exact search does, "
         "skipping expired entries it still holds", "[memory]") {
  fresh_store f(4, small(/*brute_force_below*/ 100));
  auto& [dir, j, m, rng] = f;
  std::vector<std::vector<float>> stored;
  std::vector<memory_entry> batch;
  for (int i = 0; i < 600; ++i) {
    stored.push_back(random_unit(rng));
    // Nine in ten expire at 500: their vectors stay in the graph until a
    // purge, and most of a query's nearest are dead.
    batch.push_back(entry("big", "e" + std::to_string(i), stored.back(), i % 10 ? 500 : 0));
  }
  REQUIRE(m->put_all(batch));
  auto exact_best = [&](const std::vector<float>& q, std::int64_t now) {
    double best = -2;
    std::string key;
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (i % 10 && now >= 500)
        continue;
      double d = 0;
      for (std::size_t x = 0; x < dim; ++x)
        d += static_cast<double>(q[x]) * stored[i][x];
      if (d > best)
        best = d, key = "e" + std::to_string(i);
    }
    return key;
  };
  int agree = 0;
  const int queries = 300;
  for (int n = 0; n < queries; ++n) {
    auto q = near(stored[static_cast<std::size_t>(rng() % stored.size())], rng);
    auto now = n % 2 ? 0 : 1'000;
    auto hits = m->query("big", q, 10, now);
    REQUIRE(hits);
    REQUIRE(hits->size() == 10);  // 60 live ones: k come back despite dead ones in the graph
    for (auto& h : *hits)
      if (now >= 500)
        REQUIRE(h.expires_ms == 0);
    REQUIRE(std::is_sorted(hits->begin(), hits->end(),
                           [](auto& a, auto& b) { return a.score > b.score; }));
    agree += hits->front().key == exact_best(q, now) ? 1 : 0;
  }
  INFO("top-1 agreement " << agree << " of " << queries);
  CHECK(agree >= queries * 98 / 100);
}

SCENARIO("a reopened memory store answers as before: checkpoint, rows after it, "
         "damaged rows and graph files", "[memory]") {
  test::temp_dir dir;
  std::mt19937 rng(5);
  std::vector<std::vector<float>> stored;
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 300; ++i)
    stored.push_back(random_unit(rng));
  for (int i = 0; i < 40; ++i)
    queries.push_back(near(stored[static_cast<std::size_t>(i * 7)], rng));
  auto opts = small(/*brute_force_below*/ 50);
  opts.checkpoint_every = 100;
  std::vector<std::vector<std::string>> before;
  {
    auto j = open_journal(dir.path());
    auto m = open_store(*j, opts);
    for (int i = 0; i < 250; ++i)  // two checkpoints (100, 200), 50 rows after
      REQUIRE(m->put(entry(i % 2 ? "odd" : "even", "e" + std::to_string(i), stored[i])));
    REQUIRE(*m->erase("even", "e14"));  // after the checkpoint: dropped from its graph
    auto e = entry("odd", "e7", stored[299]);  // replaced after the checkpoint
    REQUIRE(m->put(e));
    for (auto& q : queries)
      for (auto ns : {"even", "odd"})
        before.push_back(query_keys(*m, ns, q, 5));
  }
  auto answers = [&](memory_store& m) {
    std::vector<std::vector<std::string>> out;
    for (auto& q : queries)
      for (auto ns : {"even", "odd"})
        out.push_back(query_keys(m, ns, q, 5));
    return out;
  };
  WHEN("it is reopened") {
    auto j = open_journal(dir.path());
    auto m = open_store(*j, opts);
    THEN("it loaded the last checkpoint, inserted only the rows after it, and agrees") {
      CHECK(m->opened().checkpoint == 2);
      CHECK(m->opened().checkpoint_problem.empty());
      CHECK(m->opened().entries == 249);
      CHECK(m->opened().inserted == 51);
      CHECK(answers(*m) == before);
      CHECK(std::count_if(std::filesystem::directory_iterator(dir.file("memory")), {},
                          [](auto&) { return true; }) == 2);  // one file per namespace
    }
  }
  WHEN("a row is damaged and a graph file is garbage") {
    {
      auto j = open_journal(dir.path());
      write_batch b;
      b.put_row(side_table::memory, detail::memory_row_key("odd", "broken"),
                record{memory_entry_tag, 1, "not msgpack at all"});
      REQUIRE(j->commit(std::move(b)));
    }
    for (auto& f : std::filesystem::directory_iterator(dir.file("memory")))
      std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << "garbage";
    auto j = open_journal(dir.path());
    auto m = open_store(*j, opts);
    THEN("the row is skipped and counted, the graphs rebuilt from the rows, answers the same") {
      CHECK(m->opened().damaged_rows == 1);
      CHECK_THAT(m->opened().checkpoint_problem, Catch::Contains("memory-"));
      CHECK(m->opened().inserted == 249);
      CHECK(answers(*m) == before);
      REQUIRE(m->checkpoint(true).has_value() == true);
    }
  }
}

SCENARIO("after kill -9 a reopened memory store holds every acknowledged write and "
         "answers from it", "[memory][crash]") {
  test::temp_dir dir;
  for (int kill_after : {120, 260}) {
    std::set<int> present;
    {
      test::child_process child({MEMORY_CHILD_PATH, dir.path(), "100000"});
      int puts = 0;
      while (puts < kill_after) {
        auto line = child.read_line(30s);
        REQUIRE(line);
        int i = std::atoi(line->c_str() + line->find(' ') + 1);
        if (line->starts_with("put ")) {
          present.insert(i);
          ++puts;
        } else {
          present.erase(i);
        }
      }
      child.kill_hard();
    }
    INFO("killed after " << kill_after << " acknowledged puts");
    auto j = open_journal(dir.path());
    auto m = open_store(*j, test::memory_child_options());
    THEN("every acknowledged entry is there, erased ones are not, and each is its own top-1") {
      CHECK(m->opened().damaged_rows == 0);
      CHECK(m->opened().checkpoint >= 1);
      CHECK(m->size() >= present.size());  // a write in flight may have landed
      for (int i = 0; i < kill_after + kill_after / 7; ++i) {
        auto got = m->get("crash", test::memory_child_key(i), 0);
        REQUIRE(got);
        if (present.count(i)) {
          REQUIRE(*got);
          CHECK((*got)->text == "text " + std::to_string(i));
          auto hits = m->query("crash", test::memory_child_vector(i), 1, 0);
          REQUIRE(hits);
          REQUIRE(hits->size() == 1);
          CHECK(hits->front().key == test::memory_child_key(i));
        }
      }
    }
    // The next round goes on writing over the same directory, from entry 0.
  }
}
