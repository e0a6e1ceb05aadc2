// Side tables (write_batch::put_row): keyed rows beside the log, for state
// that is not one run's history (the human gateway's requests). Real LMDB
// files: rows survive a reopen, commit atomically with the log, page in key
// order, and a damaged row is reported without hiding the others.
#include <catch2/catch.hpp>

#include <lmdb.h>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/file_damage.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

record row_record(const std::string& text) { return record{test_tag, 1, text}; }

std::vector<std::string> keys_of(const row_page& page) {
  std::vector<std::string> out;
  for (auto& r : page.rows)
    out.push_back(r.key);
  return out;
}

} // namespace

SCENARIO("rows are stored, replaced and erased, and survive a reopen", "[journal][rows]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    write_batch b;
    b.put_row(side_table::requests, "r1/3", row_record("pending"));
    b.put_row(side_table::requests, "r1/4", row_record("pending too"));
    REQUIRE(j->commit(std::move(b)));
    write_batch c;
    c.put_row(side_table::requests, "r1/3", row_record("decided"));
    c.erase_row(side_table::requests, "r1/4");
    c.erase_row(side_table::requests, "never-there");
    REQUIRE(j->commit(std::move(c)));
  }
  auto j = open_journal(dir.path());
  auto row = j->row(side_table::requests, "r1/3");
  REQUIRE(row);
  REQUIRE(row->has_value());
  CHECK((*row)->payload == "decided");
  auto gone = j->row(side_table::requests, "r1/4");
  REQUIRE(gone);
  CHECK_FALSE(gone->has_value());
}

SCENARIO("a conditional row write applies only over the row it was prepared against",
         "[journal][rows]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  auto payload = [&](const std::string& key) {
    auto row = j->row(side_table::requests, key);
    REQUIRE(row);
    return row->has_value() ? (*row)->payload : std::string{"(none)"};
  };
  write_batch b;
  b.put_row(side_table::requests, "r1/3", row_record("pending"));
  REQUIRE(j->commit(std::move(b)));
  // Prepared against "pending", committed while the row still holds it.
  write_batch decided;
  decided.put_row_if(side_table::requests, "r1/3", row_record("decided"),
                     row_record("pending"));
  REQUIRE(j->commit(std::move(decided)));
  CHECK(payload("r1/3") == "decided");
  // Prepared against "pending" too, but the row has moved on: it stands,
  // and the rest of the batch applies.
  write_batch late;
  late.put_row_if(side_table::requests, "r1/3", row_record("stale"), row_record("pending"));
  late.put_row(side_table::requests, "r1/4", row_record("beside"));
  late.put_row_if(side_table::requests, "r1/5", row_record("over nothing"),
                  row_record("pending"));
  REQUIRE(j->commit(std::move(late)));
  CHECK(payload("r1/3") == "decided");
  CHECK(payload("r1/4") == "beside");
  CHECK(payload("r1/5") == "(none)");
}

SCENARIO("a row commits atomically with the log: a failed batch stores neither",
         "[journal][rows]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  REQUIRE(j->create_run_if_absent(make_run("r1")));
  write_batch first;
  first.append("r1", 1, test_record("r1", 1));
  REQUIRE(j->commit(std::move(first)));
  write_batch b;
  b.put_row(side_table::requests, "r1/1", row_record("raised"));
  b.append("r1", 1, test_record("r1", 1));  // seq 1 is taken: the batch fails
  auto r = j->commit(std::move(b));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::already_exists);
  CHECK_FALSE(j->row(side_table::requests, "r1/1")->has_value());
}

SCENARIO("rows page in key order within a prefix", "[journal][rows]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  write_batch b;
  for (auto key : {"a/1", "r1/1", "r1/2", "r1/3", "r10/1", "r2/1"})
    b.put_row(side_table::requests, key, row_record(key));
  REQUIRE(j->commit(std::move(b)));
  auto first = j->rows(side_table::requests, "r1/", "", 2);
  REQUIRE(first);
  CHECK(keys_of(*first) == std::vector<std::string>{"r1/1", "r1/2"});
  auto next = j->rows(side_table::requests, "r1/", first->rows.back().key, 2);
  REQUIRE(next);
  CHECK(keys_of(*next) == std::vector<std::string>{"r1/3"});  // not r10/1
  auto all = j->rows(side_table::requests, "", "", 100);
  REQUIRE(all);
  CHECK(keys_of(*all) == std::vector<std::string>{"a/1", "r1/1", "r1/2", "r1/3", "r10/1", "r2/1"});
  auto from_before = j->rows(side_table::requests, "r1/", "a", 100);  // `after` sorts first
  REQUIRE(from_before);
  CHECK(keys_of(*from_before).size() == 3);
}

SCENARIO("a row key that is empty or too long fails its batch", "[journal][rows]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  for (auto key : {std::string{}, std::string(501, 'k')}) {
    write_batch b;
    b.put_row(side_table::requests, key, row_record("x"));
    auto r = j->commit(std::move(b));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
    CHECK_THAT(r.error().message, Catch::Contains("requests"));
  }
}

SCENARIO("rows are counted by key prefix without reading them, damaged ones too",
         "[journal][rows][corruption]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    CHECK(*j->count_rows(side_table::requests, "") == 0);
    CHECK(*j->count_rows(side_table::request_index, "p") == 0);
    write_batch b;
    for (auto key : {"p1", "p2", "p3", "pz", "q1", "o9"})
      b.put_row(side_table::request_index, key, row_record(std::string{"DAMAGE-"} + key));
    b.put_row(side_table::requests, "p1", row_record("another table"));
    REQUIRE(j->commit(std::move(b)));
  }
  REQUIRE(flip_bit_near(dir.path() + "/data.mdb", "DAMAGE-p2", 3) > 0);
  auto j = open_journal(dir.path());
  CHECK(*j->count_rows(side_table::request_index, "p") == 4);  // p2 damaged, counted
  CHECK(*j->count_rows(side_table::request_index, "p2") == 1);
  CHECK(*j->count_rows(side_table::request_index, "q") == 1);
  CHECK(*j->count_rows(side_table::request_index, "r") == 0);   // past every key
  CHECK(*j->count_rows(side_table::request_index, "\x01") == 0);  // before every key
  CHECK(*j->count_rows(side_table::request_index, "") == 6);
  CHECK(*j->count_rows(side_table::requests, "") == 1);
  auto page = j->rows(side_table::request_index, "p", "", 10);
  REQUIRE(page);
  CHECK(page->damaged.size() == 1);
}

SCENARIO("a damaged row is reported by key and the other rows are still read",
         "[journal][rows][corruption]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    write_batch b;
    b.put_row(side_table::requests, "r1/1", row_record("fine before"));
    b.put_row(side_table::requests, "r1/2", row_record("DAMAGE-ME-PLEASE"));
    b.put_row(side_table::requests, "r1/3", row_record("fine after"));
    REQUIRE(j->commit(std::move(b)));
  }
  REQUIRE(flip_bit_near(dir.path() + "/data.mdb", "DAMAGE-ME-PLEASE", 3) > 0);
  auto j = open_journal(dir.path());
  auto page = j->rows(side_table::requests, "r1/", "", 10);
  REQUIRE(page);
  CHECK(keys_of(*page) == std::vector<std::string>{"r1/1", "r1/3"});
  REQUIRE(page->damaged.size() == 1);
  CHECK(page->damaged[0].first == "r1/2");
  CHECK(page->damaged[0].second.code == errc::corrupt_record);
  auto one = j->row(side_table::requests, "r1/2");
  REQUIRE_FALSE(one);
  CHECK_THAT(one.error().message, Catch::Contains("requests row r1/2"));
}

SCENARIO("a read-only open of a directory from before side tables reads no rows",
         "[journal][rows]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    REQUIRE(j->create_run_if_absent(make_run("r1")));
  }
  {  // what an older endure left: no "requests" database
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 32);
    REQUIRE(mdb_env_open(env, dir.path().c_str(), 0, 0644) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    MDB_dbi dbi;
    REQUIRE(mdb_dbi_open(txn, "requests", 0, &dbi) == 0);
    REQUIRE(mdb_drop(txn, dbi, 1) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto ro = open_journal(read_only_options(dir.path()));
  auto row = ro->row(side_table::requests, "r1/1");
  REQUIRE(row);
  CHECK_FALSE(row->has_value());
  auto page = ro->rows(side_table::requests, "", "", 10);
  REQUIRE(page);
  CHECK(page->rows.empty());
  auto count = ro->count_rows(side_table::requests, "r1");
  REQUIRE(count);
  CHECK(*count == 0);
  // A writer open creates the table.
  ro.reset();
  auto j = open_journal(dir.path());
  write_batch b;
  b.put_row(side_table::requests, "r1/1", row_record("now"));
  CHECK(j->commit(std::move(b)));
}

SCENARIO("a row put only if absent fails its whole batch when the row exists",
         "[journal][rows]") {
  // The gateway stores a request row and its index entries in one batch:
  // when the row exists already, none of the entries may be written.
  temp_dir dir;
  auto j = open_journal(dir.path());
  write_batch first;
  first.put_row(side_table::requests, "r1/3", row_record("decided"), /*if_absent*/ true);
  REQUIRE(j->commit(std::move(first)));
  write_batch again;
  again.put_row(side_table::requests, "r1/3", row_record("pending"), /*if_absent*/ true);
  again.put_row(side_table::request_index, "p/r1/3", row_record("entry"));
  auto refused = j->commit(std::move(again));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::already_exists);
  CHECK_THAT(refused.error().message, Catch::Contains("r1/3"));
  auto row = j->row(side_table::requests, "r1/3");
  REQUIRE(row);
  REQUIRE(row->has_value());
  CHECK((*row)->payload == "decided");
  auto entry = j->row(side_table::request_index, "p/r1/3");
  REQUIRE(entry);
  CHECK_FALSE(entry->has_value());
}

SCENARIO("the last rows of a prefix are its newest keys, never a neighbour's",
         "[journal][rows]") {
  // last_rows seeks to the first key past every key with the prefix: the
  // prefix with its last byte below 0xff raised. Neighbours on both sides
  // (a longer id sharing the prefix's start, keys with 0xff bytes, the
  // successor key itself) must never be read as the prefix's.
  temp_dir dir;
  auto j = open_journal(dir.path());
  const std::string ff = "\xff";
  write_batch b;
  for (const std::string& key : std::vector<std::string>{"a-b/9", "a/1", "a/2", "a/3", "a0", "a0/1", "b", "x" + ff, "x" + ff + "/1",
                   "x" + ff + ff, "x" + ff + ff + "1", "y"})
    b.put_row(side_table::requests, key, row_record(key));
  REQUIRE(j->commit(std::move(b)));
  auto last = [&](const std::string& prefix, std::size_t n) {
    auto page = j->last_rows(side_table::requests, prefix, n);
    REQUIRE(page);
    CHECK(page->damaged.empty());
    return keys_of(*page);
  };
  using keys = std::vector<std::string>;
  CHECK(last("a/", 2) == keys{"a/2", "a/3"});  // oldest first
  CHECK(last("a/", 10) == keys{"a/1", "a/2", "a/3"});
  CHECK(last("a0", 10) == keys{"a0", "a0/1"});  // the successor of "a/" is not "a/"'s
  CHECK(last("a-", 10) == keys{"a-b/9"});
  CHECK(last("x" + ff, 10) == keys{"x" + ff, "x" + ff + "/1", "x" + ff + ff, "x" + ff + ff + "1"});
  CHECK(last("x" + ff + ff, 1) == keys{"x" + ff + ff + "1"});  // its successor is "y"
  CHECK(last(ff, 10).empty());  // no successor at all: the table's end
  CHECK(last("y", 10) == keys{"y"});  // the table's last key
  CHECK(last("z", 10).empty());
  CHECK(last("", 2) == keys{"x" + ff + ff + "1", "y"});
  CHECK(last("a/", 0).empty());
}
