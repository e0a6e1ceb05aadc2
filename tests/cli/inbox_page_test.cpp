// The first page of `endure inbox` (cli::read_inbox) read from the request
// index: oldest first, the count from the index, a principal's requests,
// entries that went stale or name a damaged row, and a directory whose
// index was never built (read row by row with the same answer).
#include <catch2/catch.hpp>

#include "endure/actors/events.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/cli/request_rows.hpp"
#include "gateway/index_check.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using nlohmann::json;

namespace {

gateway::human_request pending(std::string id, std::int64_t created, json eligible) {
  gateway::human_request r;
  r.id = std::move(id);
  r.run_id = "r";
  r.tool = "publish";
  r.arguments = json{{"title", "t"}};
  r.rule = {{"allowed_decisions", {"approve"}}, {"quorum", 1}, {"eligible", std::move(eligible)}};
  r.created_ms = created;
  return r;
}

/// Five pending requests (created out of id order), one decided, one
/// expired; with their index entries and the marker when `indexed`.
std::unique_ptr<journal> seeded(const std::string& dir, bool indexed) {
  auto j = journal::open({.data_dir = dir});
  REQUIRE(j);
  register_event_types((*j)->types());
  std::vector<gateway::human_request> rows{
    pending("a/0", 500, json::array()),      pending("b/0", 100, {"ann"}),
    pending("c/0", 300, {"bob"}),            pending("d/0", 200, {"ann", "bob"}),
    pending("e/0", 400, {"bob"}),            pending("f/0", 50, json::array()),
    pending("g/0", 60, json::array())};
  rows[5].status = gateway::request_status::decided;
  rows[5].outcome = gateway::request_outcome{gateway::decision::approve, {"ann"}, 70, "cli",
                                             {}, {}, {}};
  rows[5].delivered = true;
  rows[6].status = gateway::request_status::expired;
  write_batch b;
  for (auto& r : rows) {
    b.put_row(side_table::requests, r.id, gateway::to_record(r));
    if (indexed)
      gateway::update_index(b, {}, r);
  }
  if (indexed)
    b.put_row(side_table::request_index, std::string{gateway::indexed_key},
              gateway::index_record());
  REQUIRE((*j)->commit(std::move(b)));
  return std::move(*j);
}

std::vector<std::string> ids(const cli::inbox_page& p) {
  std::vector<std::string> out;
  for (auto& r : p.requests)
    out.push_back(r.id);
  return out;
}

void put_raw(journal& j, side_table t, const std::string& key, const record& rec) {
  write_batch b;
  b.put_row(t, key, rec);
  REQUIRE(j.commit(std::move(b)));
}

} // namespace

SCENARIO("an index entry naming a damaged, missing or decided row is not listed",
         "[cli][inbox]") {
  temp_dir dir;
  auto j = seeded(dir.path(), true);
  // A row that cannot be read, still with its entry; an entry whose row is
  // gone; an entry of a row that was decided (the batch lost nothing: this
  // is a stale entry, which readers must tolerate).
  put_raw(*j, side_table::requests, "x/0", record{gateway::human_request_tag, 1, "not msgpack"});
  put_raw(*j, side_table::pending_requests, gateway::index_key_at("p", 10) + "x/0",
          gateway::index_record());
  put_raw(*j, side_table::pending_requests, gateway::index_key_at("p", 20) + "gone/0",
          gateway::index_record());
  put_raw(*j, side_table::pending_requests, gateway::index_key_at("p", 50) + "f/0",
          gateway::index_record());
  auto page = cli::read_inbox(*j, {"", 100});
  REQUIRE(page);
  CHECK(ids(*page) == std::vector<std::string>{"b/0", "d/0", "c/0", "e/0", "a/0"});
  CHECK(page->total == 5);  // read to the end: the three that are not pending do not count
  REQUIRE(page->damaged.size() == 1);
  CHECK(page->damaged[0].first == "x/0");
  auto first = cli::read_inbox(*j, {"", 2});
  REQUIRE(first);
  CHECK(ids(*first) == std::vector<std::string>{"b/0", "d/0"});
  CHECK(first->total == 5);  // 8 entries, 3 skipped before the page was full
}

SCENARIO("the first inbox page comes from the index: oldest first, counted by it",
         "[cli][inbox]") {
  temp_dir dir;
  auto j = seeded(dir.path(), true);
  REQUIRE(index_problems(*j).empty());
  auto page = cli::read_inbox(*j, {"", 3});
  REQUIRE(page);
  CHECK(ids(*page) == std::vector<std::string>{"b/0", "d/0", "c/0"});
  CHECK(page->total == 5);
  CHECK(page->exact);
  CHECK(page->damaged.empty());
  WHEN("only the requests a principal may decide") {
    auto ann = cli::read_inbox(*j, {"ann", 100});  // named, or naming nobody
    REQUIRE(ann);
    CHECK(ids(*ann) == std::vector<std::string>{"b/0", "d/0", "a/0"});
    CHECK(ann->total == 3);
    CHECK(ann->exact);
    auto one = cli::read_inbox(*j, {"bob", 1});  // stops at the first match past the page
    REQUIRE(one);
    CHECK(ids(*one) == std::vector<std::string>{"d/0"});
    CHECK_FALSE(one->exact);
    CHECK(one->total > 1);
    auto nobody = cli::read_inbox(*j, {"zed", 10});
    REQUIRE(nobody);
    CHECK(ids(*nobody) == std::vector<std::string>{"a/0"});
  }
}

SCENARIO("a directory whose index was never built is read row by row, same answer",
         "[cli][inbox]") {
  temp_dir indexed_dir, plain_dir;
  auto indexed = seeded(indexed_dir.path(), true);
  auto plain = seeded(plain_dir.path(), false);
  for (cli::inbox_query q : {cli::inbox_query{"", 3}, cli::inbox_query{"", 100},
                             cli::inbox_query{"ann", 100}, cli::inbox_query{"bob", 100}}) {
    auto a = cli::read_inbox(*indexed, q);
    auto b = cli::read_inbox(*plain, q);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(ids(*a) == ids(*b));
    CHECK(a->total == b->total);
  }
}

SCENARIO("a directory indexed in the index's first form is read row by row, same answer",
         "[cli][inbox]") {
  // A build from before the pending table indexed it: pending entries in
  // request_index under the mark "indexed". Its entries are not this
  // build's to trust (that build does not keep pending_requests), not even
  // beside this build's own mark, until the gateway indexes it again.
  temp_dir indexed_dir, first_form_dir;
  auto indexed = seeded(indexed_dir.path(), true);
  auto first_form = seeded(first_form_dir.path(), false);
  write_batch b;
  b.put_row(side_table::request_index, gateway::index_key_at("p", 100) + "b/0",
            gateway::index_record());  // its one entry: an index read would list b/0 alone
  b.put_row(side_table::request_index, std::string{gateway::first_form_indexed_key},
            gateway::index_record());
  REQUIRE(first_form->commit(std::move(b)));
  for (bool own_mark_too : {false, true}) {
    if (own_mark_too)
      put_raw(*first_form, side_table::request_index, std::string{gateway::indexed_key},
              gateway::index_record());
    auto a = cli::read_inbox(*indexed, {"", 100});
    auto b = cli::read_inbox(*first_form, {"", 100});
    REQUIRE(a);
    REQUIRE(b);
    CHECK(ids(*b) == ids(*a));
    CHECK(b->total == 5);
  }
}
