// Artifacts over real LMDB files: malformed input is refused with a message
// naming it; the same bytes are stored once however often they are put; a
// task's listing keeps put order and provenance and survives a reopen; a
// put repeated with the same provenance (a step re-run after a crash) adds
// no listing; a damaged blob is an error naming it, never wrong bytes, and
// putting the bytes again repairs it.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>

#include "endure/actors/state/artifact_store.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/net/sha256.hpp"
#include "endure/persistence/journal.hpp"
#include "support/file_damage.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::state;

namespace {

std::unique_ptr<journal> open_journal(const std::string& dir) {
  auto j = journal::open({.data_dir = dir, .mode = durability::nosync});
  REQUIRE(j);
  register_record_types((*j)->types());
  return std::move(*j);
}

std::size_t rows(const journal& j, std::string_view prefix) {
  auto n = j.count_rows(side_table::artifacts, prefix);
  REQUIRE(n);
  return *n;
}

const artifact_provenance step3{"run-1", 2, 3};

} // namespace

SCENARIO("malformed puts and gets are refused, naming what is wrong", "[state][artifacts]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  artifact_store store{*j, {.max_bytes = 10}};
  auto refused = [](const auto& r, std::string_view words) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
    CHECK_THAT(r.error().message, Catch::Contains(std::string{words}));
  };
  refused(store.put("", "a", "x", step3), "task id");
  refused(store.put("../etc", "a", "x", step3), "task id");
  refused(store.put("t/1", "a", "x", step3), "task id");
  refused(store.put("t1", "", "x", step3), "name");
  refused(store.put("t1", "line\nbreak", "x", step3), "name");
  refused(store.put("t1", std::string(256, 'n'), "x", step3), "name");
  refused(store.put("t1", "big", std::string(11, 'x'), step3), "over the limit of 10");
  CHECK(store.put("t1", "fits", std::string(10, 'x'), step3));
  refused(store.get("abc"), "64 lowercase hex");
  refused(store.get(std::string(64, 'G')), "64 lowercase hex");
  refused(store.list("no spaces"), "task id");
  auto missing = store.get(std::string(64, 'a'));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::not_found);
  CHECK(rows(*j, "r/") == 1);  // only the put that fit left a listing
}

SCENARIO("the same bytes are stored once and every put is listed with its provenance",
         "[state][artifacts]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  artifact_store store{*j};
  std::string report = "# Report\nall green\n";
  auto a = store.put("doc-7", "report.md", report, {"run-1", 1, 4});
  auto b = store.put("doc-7", "copy.md", report, {"run-2", 2, 9});
  auto c = store.put("doc-7", "notes.txt", "other bytes", {"run-2", 2, 10});
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(*a == net::sha256_hex(report));
  CHECK(*a == *b);
  CHECK(*c != *a);
  CHECK(rows(*j, "b/") == 2);  // two different contents, one blob each
  CHECK(store.get(*a) == report);
  auto listed = store.list("doc-7");
  REQUIRE(listed);
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].name == "report.md");
  CHECK((*listed)[0].provenance == artifact_provenance{"run-1", 1, 4});
  CHECK((*listed)[0].size == report.size());
  CHECK((*listed)[0].at_ms > 0);
  CHECK((*listed)[1].name == "copy.md");
  CHECK((*listed)[1].hash == *a);
  CHECK((*listed)[1].provenance == artifact_provenance{"run-2", 2, 9});
  CHECK((*listed)[2].name == "notes.txt");
  auto other = store.list("doc-8");  // tasks do not see each other's
  REQUIRE(other);
  CHECK(other->empty());
  CHECK(store.put("doc-8", "x", report, step3));
  CHECK(store.list("doc-7")->size() == 3);
  CHECK(rows(*j, "b/") == 2);
}

SCENARIO("a put repeated with the same provenance adds no listing", "[state][artifacts]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  artifact_store store{*j};
  REQUIRE(store.put("t1", "out.json", "{\"a\": 1}", step3));
  WHEN("the step re-runs with the same bytes") {
    REQUIRE(store.put("t1", "out.json", "{\"a\": 1}", step3));
    THEN("there is still one listing and one blob") {
      CHECK(store.list("t1")->size() == 1);
      CHECK(rows(*j, "b/") == 1);
    }
  }
  WHEN("the step re-runs and makes other bytes") {
    auto again = store.put("t1", "out.json", "{\"a\": 2}", step3);
    REQUIRE(again);
    THEN("its one listing names the new bytes") {
      auto listed = store.list("t1");
      REQUIRE(listed->size() == 1);
      CHECK(listed->front().hash == *again);
      CHECK(store.get(listed->front().hash) == std::string{"{\"a\": 2}"});
    }
  }
  WHEN("another step puts the same name") {
    REQUIRE(store.put("t1", "out.json", "{\"a\": 1}", {"run-1", 2, 4}));
    THEN("it is a second listing") { CHECK(store.list("t1")->size() == 2); }
  }
}

SCENARIO("artifacts survive a reopen of the data directory", "[state][artifacts]") {
  test::temp_dir dir;
  std::string id;
  {
    auto j = open_journal(dir.path());
    artifact_store store{*j};
    auto put = store.put("t1", "a.bin", std::string("\0\x01\xff binary", 10), step3);
    REQUIRE(put);
    id = *put;
    REQUIRE(store.put("t1", "b.txt", "second", {"run-1", 2, 5}));
  }
  auto j = open_journal(dir.path());
  artifact_store store{*j};
  CHECK(store.get(id) == std::string("\0\x01\xff binary", 10));
  auto listed = store.list("t1");
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].name == "a.bin");
  CHECK((*listed)[1].name == "b.txt");
  // Put order goes on after the reopen.
  REQUIRE(store.put("t1", "c.txt", "third", {"run-2", 1, 1}));
  CHECK(store.list("t1")->back().name == "c.txt");
}

SCENARIO("a damaged blob is an error naming it, never wrong bytes", "[state][artifacts]") {
  test::temp_dir dir;
  std::string bytes = "the one true answer is 42";
  GIVEN("a blob row whose bytes no longer match its hash") {
    auto j = open_journal(dir.path());
    artifact_store store{*j};
    auto id = store.put("t1", "answer.txt", bytes, step3);
    REQUIRE(id);
    write_batch b;  // a well-formed row holding other bytes
    b.put_row(side_table::artifacts, "b/" + *id,
              record{artifact_blob_tag, 1, "the one true answer is 43"});
    REQUIRE(j->commit(std::move(b)));
    auto got = store.get(*id);
    REQUIRE_FALSE(got);
    CHECK(got.error().code == errc::corrupt_record);
    CHECK_THAT(got.error().message, Catch::Contains(*id) && Catch::Contains("damaged"));
    THEN("putting the same bytes again repairs it") {
      REQUIRE(store.put("t1", "answer.txt", bytes, step3));
      CHECK(store.get(*id) == bytes);
      CHECK(store.list("t1")->size() == 1);
    }
  }
  GIVEN("a blob damaged on disk (a flipped bit)") {
    std::string id;
    {
      auto j = open_journal(dir.path());
      artifact_store store{*j};
      auto put = store.put("t1", "answer.txt", bytes, step3);
      REQUIRE(put);
      id = *put;
    }
    REQUIRE(test::flip_bit_near(dir.file("data.mdb"), "one true answer", 4) > 0);
    auto j = open_journal(dir.path());
    artifact_store store{*j};
    auto got = store.get(id);
    REQUIRE_FALSE(got);
    CHECK(got.error().code == errc::corrupt_record);
    CHECK_THAT(got.error().message, Catch::Contains(id));
    REQUIRE(store.put("t1", "answer.txt", bytes, step3));
    CHECK(store.get(id) == bytes);
  }
}

SCENARIO("puts racing from several threads each get their own listing", "[state][artifacts]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  constexpr int threads = 4, each = 15;
  std::vector<std::string> failures(threads);
  {
    std::vector<std::jthread> writers;
    for (int t = 0; t < threads; ++t)
      writers.emplace_back([&, t] {
        artifact_store store{*j};
        for (int i = 0; i < each; ++i) {
          auto put = store.put("t1", "shared.txt", "same bytes",
                               {"run-" + std::to_string(t), 1, static_cast<std::uint64_t>(i)});
          if (!put)
            failures[t] = put.error().to_string();
        }
      });
  }
  for (auto& f : failures)
    CHECK(f.empty());
  artifact_store store{*j};
  auto listed = store.list("t1");
  REQUIRE(listed);
  CHECK(listed->size() == threads * each);
  std::set<std::pair<std::string, std::uint64_t>> who;
  for (auto& e : *listed)
    who.insert({e.provenance.run_id, e.provenance.step});
  CHECK(who.size() == threads * each);
  CHECK(rows(*j, "b/") == 1);
}

SCENARIO("damaged listing and index rows neither hide the others nor duplicate a listing",
         "[state][artifacts]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  artifact_store store{*j};
  REQUIRE(store.put("t1", "a.txt", "a", {"run-1", 1, 1}));
  REQUIRE(store.put("t1", "b.txt", "b", {"run-1", 1, 2}));
  REQUIRE(store.put("t1", "c.txt", "c", {"run-1", 1, 3}));
  auto page = j->rows(side_table::artifacts, "", "", 100);
  REQUIRE(page);
  write_batch damage;  // well-formed envelopes whose JSON is not a listing or an index
  for (auto& r : page->rows)
    if (r.key.rfind("k/", 0) == 0)
      damage.put_row(side_table::artifacts, r.key, record{artifact_index_tag, 1, "not json"});
  damage.put_row(side_table::artifacts, page->rows[rows(*j, "b/") + 3 + 1].key,
                 record{artifact_ref_tag, 1, "{\"name\": 1}"});  // b.txt's listing
  REQUIRE(j->commit(std::move(damage)));
  WHEN("the task is listed") {
    auto listed = store.list("t1");
    REQUIRE(listed);
    THEN("the readable listings are there, in order") {
      REQUIRE(listed->size() == 2);
      CHECK((*listed)[0].name == "a.txt");
      CHECK((*listed)[1].name == "c.txt");
    }
  }
  WHEN("a put is repeated whose index row and listing are both damaged") {
    REQUIRE(store.put("t1", "b.txt", "b", {"run-1", 1, 2}));
    THEN("it is listed again, once") {
      auto listed = store.list("t1");
      REQUIRE(listed->size() == 3);
      CHECK(listed->back().name == "b.txt");
      REQUIRE(store.put("t1", "b.txt", "b", {"run-1", 1, 2}));
      CHECK(store.list("t1")->size() == 3);
    }
  }
  WHEN("a put is repeated while its index row is damaged") {
    REQUIRE(store.put("t1", "c.txt", "c", {"run-1", 1, 3}));
    THEN("its listing is found among the task's and not added again") {
      CHECK(store.list("t1")->size() == 2);
      CHECK(rows(*j, "r/") == 3);
    }
  }
}
