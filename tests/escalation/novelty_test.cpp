// Novelty: the hashed n-gram embedder and the per task type HNSW graphs,
// saved and reloaded through files whose damage is caught.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "endure/actors/escalation/cosine_graph.hpp"
#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/escalation/novelty_index.hpp"
#include "support/temp_dir.hpp"

using namespace endure::escalation;
using endure::errc;
using endure::test::temp_dir;
using Catch::Detail::Approx;

namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += static_cast<double>(a[i]) * b[i];
  return s;
}

} // namespace

SCENARIO("the embedder puts texts that share words near each other", "[escalation][novelty]") {
  auto a = hashed_ngram_embedding("refund the damaged blender order");
  auto b = hashed_ngram_embedding("Refund the damaged blender ORDER!");
  auto c = hashed_ngram_embedding("refund a damaged toaster order");
  auto d = hashed_ngram_embedding("quarterly tax filing deadline in Ontario");
  REQUIRE(a.size() == default_embedding_dim);
  CHECK(dot(a, a) == Approx(1));
  CHECK(dot(a, b) == Approx(1));  // case and punctuation do not matter
  CHECK(dot(a, c) > 0.4);
  CHECK(dot(a, c) > dot(a, d) + 0.3);
  auto empty = hashed_ngram_embedding(" !? ");
  CHECK(std::all_of(empty.begin(), empty.end(), [](float x) { return x == 0; }));
  CHECK(hashed_ngram_embedding("x", 16).size() == 16);
}

SCENARIO("novelty is the distance to the nearest past inputs of the same task type", "[escalation][novelty]") {
  novelty_index index({.dim = 128, .neighbours = 3});
  auto v = hashed_ngram_embedding("refund the damaged blender order");
  CHECK(*index.novelty("refund", v) == 1.0);  // nothing seen yet
  REQUIRE(index.add("refund", v, 1));
  REQUIRE(index.add("refund", hashed_ngram_embedding("refund a damaged toaster order"), 2));
  REQUIRE(index.add("refund", hashed_ngram_embedding("refund the late kettle order"), 3));
  REQUIRE(index.add("legal", hashed_ngram_embedding("quarterly tax filing deadline"), 4));
  CHECK(index.size() == 4);
  double seen = *index.novelty("refund", hashed_ngram_embedding("refund a damaged blender order"));
  double unseen = *index.novelty("refund", hashed_ngram_embedding("quarterly tax filing deadline"));
  CHECK(seen < 0.6);
  CHECK(unseen > seen + 0.3);
  // The legal input is not a past input of "refund"... but it is of "legal".
  CHECK(*index.novelty("legal", hashed_ngram_embedding("quarterly tax filing deadline")) ==
        Approx(0).margin(1e-5));
  CHECK(*index.novelty("shipping", v) == 1.0);
  std::vector<float> zero(128, 0.0f);
  CHECK(*index.novelty("refund", zero) == 1.0);

  auto poisoned = hashed_ngram_embedding("refund the damaged blender order");
  poisoned[3] = std::nanf("");
  auto nan_query = index.novelty("refund", poisoned);
  REQUIRE_FALSE(nan_query);
  CHECK_THAT(nan_query.error().message, Catch::Contains("not a finite number"));
  CHECK_FALSE(index.add("refund", poisoned, 10));
  auto again = index.add("refund", v, 1);  // id 1 is taken: hnswlib would overwrite it
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::already_exists);
  CHECK(index.size() == 4);
  CHECK(index.max_id() == 4);

  auto narrow = std::vector<float>(64, 0.1f);
  auto bad = index.novelty("refund", narrow);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_argument);
  CHECK_THAT(bad.error().message, Catch::Contains("64") && Catch::Contains("128"));
  CHECK_FALSE(index.add("refund", narrow, 9));
}

SCENARIO("graphs grow past their first capacity", "[escalation][novelty]") {
  novelty_index index({.dim = 16, .neighbours = 1});
  for (std::uint64_t i = 1; i <= 3000; ++i)  // k = 1 below: an exact match is 0
    REQUIRE(index.add("t", hashed_ngram_embedding("input number " + std::to_string(i), 16), i));
  CHECK(index.size() == 3000);
  CHECK(*index.novelty("t", hashed_ngram_embedding("input number 1234", 16)) ==
        Approx(0).margin(1e-5));
}

SCENARIO("saved graphs reload to the same answers and a damaged file is refused", "[escalation][novelty]") {
  temp_dir dir;
  novelty_index index({.dim = 32, .neighbours = 2});
  for (std::uint64_t i = 1; i <= 200; ++i)
    REQUIRE(index.add(i % 2 ? "odd" : "even", hashed_ngram_embedding("text " + std::to_string(i), 32), i));
  auto saved = index.save(dir.path());
  REQUIRE(saved);
  REQUIRE(saved->size() == 2);
  auto probe = hashed_ngram_embedding("text 77 and more", 32);

  novelty_index reopened({.dim = 32, .neighbours = 2});
  REQUIRE(reopened.load(dir.path(), *saved));
  CHECK(reopened.size() == 200);
  CHECK(reopened.max_id() == 200);
  CHECK_FALSE(reopened.add("odd", probe, 77));  // loaded ids stay taken
  CHECK(*reopened.novelty("odd", probe) == Approx(*index.novelty("odd", probe)));
  CHECK(*reopened.novelty("even", probe) == Approx(*index.novelty("even", probe)));

  WHEN("a byte of a graph file changes") {
    auto path = dir.file((*saved)[0].file);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100);
      f.put('\x5a');
    }
    novelty_index damaged({.dim = 32, .neighbours = 2});
    auto r = damaged.load(dir.path(), *saved);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt_record);
    CHECK_THAT(r.error().message, Catch::Contains((*saved)[0].file));
    CHECK(damaged.size() == 0);  // nothing half-loaded
  }
  WHEN("the index is opened with another width") {
    novelty_index wider({.dim = 64, .neighbours = 2});
    auto r = wider.load(dir.path(), *saved);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
    CHECK_THAT(r.error().message, Catch::Contains("32") && Catch::Contains("64"));
  }
  WHEN("a graph file is missing") {
    std::filesystem::remove(dir.file((*saved)[1].file));
    novelty_index missing({.dim = 32, .neighbours = 2});
    auto r = missing.load(dir.path(), *saved);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("cannot be read"));
  }
}

SCENARIO("a cosine graph saved and loaded keeps its removed vectors removed and counted",
         "[escalation][novelty]") {
  temp_dir dir;
  graph_options o{.dim = 16, .graph_degree = 8, .build_breadth = 20, .search_breadth = 32};
  cosine_graph g(o);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    auto v = hashed_ngram_embedding("note number " + std::to_string(i), 16);
    REQUIRE(g.add(v, i));
  }
  for (std::uint64_t i : {3, 7, 11})
    g.remove(i);
  auto hash = g.save(dir.file("g.hnsw"));
  REQUIRE(hash);
  // Garbage where the loaded graph's counters will live: hnswlib 0.6.2
  // leaves its removed count unset when it loads.
  for (int i = 0; i < 20; ++i) {
    std::vector<std::uint64_t> junk(512, ~0ull);
    REQUIRE(junk.back() != 0);
  }
  auto loaded = cosine_graph::load(dir.file("g.hnsw"), o, *hash, 50);
  REQUIRE(loaded);
  CHECK(loaded->size() == 50);
  CHECK(loaded->removed() == 3);
  CHECK(loaded->max_label() == 50);
  CHECK_FALSE(loaded->contains(7));
  CHECK(loaded->contains(8));
  auto v = hashed_ngram_embedding("note number 7", 16);
  for (auto& hit : loaded->nearest(v, 47))
    CHECK(hit.label != 7);
}
