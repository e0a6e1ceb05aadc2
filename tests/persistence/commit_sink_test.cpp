// What the cluster's replication relies on from the journal: a commit sink
// sees every committed batch in commit order and owns its completion; a
// batch survives encode/decode and applies to a second journal with the
// same result; copy_to holds exactly the batches queued before it. Real
// LMDB files throughout.
#include <catch2/catch.hpp>

#include <msgpack.hpp>

#include <atomic>
#include <future>
#include <thread>
#include <mutex>

#include "endure/persistence/commit_sink.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/write_batch_codec.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

/// A batch of one op packed by hand (fields encode_batch would not write):
/// kind, key, number, then `time` packs time_ms; no bytes, status and
/// table 1.
template <class PackTime>
std::string one_op_batch(write_batch::op_kind kind, const std::string& key,
                         std::uint64_t number, PackTime time) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(2);
  pk.pack_uint8(2);  // the codec's format
  pk.pack_array(1);
  pk.pack_array(7);
  pk.pack_uint8(static_cast<std::uint8_t>(kind));
  pk.pack_bin(static_cast<std::uint32_t>(key.size()));
  pk.pack_bin_body(key.data(), static_cast<std::uint32_t>(key.size()));
  pk.pack_uint64(number);
  time(pk);
  pk.pack_bin(0);
  pk.pack_uint8(1);
  pk.pack_uint8(1);
  return {buf.data(), buf.size()};
}

/// Keeps what the writer hands over; completes nothing until told.
struct holding_sink : commit_sink {
  std::mutex m;
  std::vector<write_batch> batches;
  std::vector<completion> held;
  void committed(std::vector<write_batch> b, std::vector<completion> d) override {
    std::lock_guard g{m};
    for (auto& x : b)
      batches.push_back(std::move(x));
    for (auto& x : d)
      held.push_back(std::move(x));
  }
  std::size_t size() {
    std::lock_guard g{m};
    return held.size();
  }
  void complete_all() {
    std::vector<completion> now;
    {
      std::lock_guard g{m};
      now.swap(held);
    }
    for (auto& f : now)
      f(expected<void>{});
  }
};

write_batch step_batch(const std::string& run, std::uint64_t seq) {
  write_batch b;
  b.append(run, seq, test_record(run, seq));
  return b;
}

std::unique_ptr<journal> open_with_sink(const std::string& dir, std::shared_ptr<commit_sink> sink) {
  journal_options opts;
  opts.data_dir = dir;
  opts.sink = std::move(sink);
  return open_journal(std::move(opts));
}

std::vector<std::string> payloads(const journal& j, const std::string& run) {
  std::vector<std::string> out;
  auto recs = j.read(run);
  REQUIRE(recs);
  for (auto& r : *recs)
    out.push_back(r.rec.payload);
  return out;
}

} // namespace

SCENARIO("a commit sink owns the completions of committed batches and failed ones complete at once",
         "[journal][replication]") {
  temp_dir dir;
  {  // the run exists before the sink holds anything
    auto j = open_journal(dir.path());
    REQUIRE(j->create_run_if_absent(make_run("r1")));
  }
  auto sink = std::make_shared<holding_sink>();
  auto j = open_with_sink(dir.path(), sink);
  std::promise<expected<void>> first, taken, second;
  j->commit(step_batch("r1", 1), [&](const expected<void>& r) { first.set_value(r); });
  j->commit(step_batch("r1", 1), [&](const expected<void>& r) { taken.set_value(r); });
  j->commit(step_batch("r1", 2), [&](const expected<void>& r) { second.set_value(r); });

  // The duplicate seq fails at once with its error, while the sink holds
  // the two that committed: they are durable but not acknowledged.
  auto dup = taken.get_future().get();
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == errc::already_exists);
  auto f1 = first.get_future();
  auto f2 = second.get_future();
  CHECK(f1.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
  REQUIRE(sink->size() == 2);
  CHECK(payloads(*j, "r1") == std::vector<std::string>{payload_for("r1", 1), payload_for("r1", 2)});
  {
    std::lock_guard g{sink->m};
    REQUIRE(sink->batches.size() == 2);
    CHECK(sink->batches[0].ops()[0].number == 1);
    CHECK(sink->batches[1].ops()[0].number == 2);
  }
  sink->complete_all();
  CHECK(f1.get());
  CHECK(f2.get());
}

SCENARIO("a batch decoded from its bytes applies to a second journal with the same result",
         "[journal][replication]") {
  temp_dir a, b;
  auto sink = std::make_shared<holding_sink>();
  auto owner = open_with_sink(a.path(), sink);
  std::vector<write_batch> sent;
  {
    write_batch w;
    w.create_run(make_run("r1"));
    w.append("r1", 1, test_record("r1", 1));
    w.put_timer({-5, "r1", 7});
    w.put_row(side_table::ledger, std::string("t/\0x", 4), record{test_tag, 1, "row"}, true);
    sent.push_back(std::move(w));
    write_batch v;
    v.append("r1", 2, test_record("r1", 2));
    v.set_status("r1", run_status::completed, "done \xff", 1234, true);
    v.erase_timer({-5, "r1", 7});
    sent.push_back(std::move(v));
  }
  std::vector<std::future<expected<void>>> acks;
  for (auto& w : sent) {
    auto p = std::make_shared<std::promise<expected<void>>>();
    acks.push_back(p->get_future());
    owner->commit(w, [p](const expected<void>& r) { p->set_value(r); });
  }
  for (int i = 0; i < 200 && sink->size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(sink->size() == 2);

  auto replica = open_journal(b.path());
  std::vector<std::string> wire;
  {
    std::lock_guard g{sink->m};
    for (auto& w : sink->batches)
      wire.push_back(encode_batch(w));
  }
  for (auto& bytes : wire) {
    auto decoded = decode_batch(bytes);
    REQUIRE(decoded);
    REQUIRE(replica->commit(std::move(*decoded)));
  }
  sink->complete_all();
  for (auto& f : acks)
    REQUIRE(f.get());

  auto meta_owner = owner->run("r1");
  auto meta_replica = replica->run("r1");
  REQUIRE(meta_owner);
  REQUIRE(meta_replica);
  CHECK(meta_replica->status == run_status::completed);
  CHECK(meta_replica->detail == meta_owner->detail);
  CHECK(meta_replica->updated_at_ms == 1234);
  CHECK(payloads(*replica, "r1") == payloads(*owner, "r1"));
  auto row = replica->row(side_table::ledger, std::string("t/\0x", 4));
  REQUIRE(row);
  REQUIRE(row->has_value());
  CHECK((*row)->payload == "row");
  auto timers = replica->due_timers(0, 10);
  REQUIRE(timers);
  CHECK(timers->empty());
}

SCENARIO("bytes that are not a batch are refused naming what is wrong", "[journal][replication]") {
  write_batch w;
  w.append("r1", 1, test_record("r1", 1));
  auto good = encode_batch(w);
  CHECK(decode_batch(good));
  auto not_msgpack = decode_batch("\xc1\xc1\xc1");
  REQUIRE_FALSE(not_msgpack);
  CHECK(not_msgpack.error().code == errc::corrupt_record);
  auto truncated = decode_batch(std::string_view{good}.substr(0, good.size() - 3));
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().code == errc::corrupt_record);
  auto bad_kind = good;
  bad_kind[4] = 0x7f;  // [2-array, format, ops-array, op-array, kind]
  auto refused = decode_batch(bad_kind);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("op 0") != std::string::npos);
  // A time past INT64_MAX (a positive msgpack integer) is refused, not thrown.
  auto too_big = decode_batch(one_op_batch(write_batch::op_kind::put_timer, "r", 1,
                                           [](auto& pk) { pk.pack_uint64(UINT64_MAX); }));
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().code == errc::corrupt_record);
  auto newer = good;
  newer[1] = 3;
  auto later = decode_batch(newer);
  REQUIRE_FALSE(later);
  CHECK(later.error().code == errc::newer_record_version);
}

SCENARIO("a row of every side table travels, and a table this build does not know is refused",
         "[journal][replication]") {
  // The write-ahead log and replication decode batches with this codec: a
  // table it refuses stops recovery of the directory that wrote it.
  write_batch w;
  for (auto t : all_side_tables)
    w.put_row(t, table_name(t), test_record("r1", 1));
  auto decoded = decode_batch(encode_batch(w));
  REQUIRE(decoded);
  REQUIRE(decoded->ops().size() == std::size(all_side_tables));
  for (std::size_t i = 0; i < std::size(all_side_tables); ++i)
    CHECK(decoded->ops()[i].table == all_side_tables[i]);
  write_batch unknown;
  unknown.put_row(side_table::requests, "r1/0", test_record("r1", 1));
  auto bytes = encode_batch(unknown);
  REQUIRE(bytes.back() == static_cast<char>(side_table::requests));  // the table packs last
  bytes.back() = static_cast<char>(std::size(all_side_tables) + 1);
  auto refused = decode_batch(bytes);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("table"));
}

SCENARIO("a conditional row write travels with its condition, and an unknown one is refused",
         "[journal][replication]") {
  write_batch w;
  w.put_row_if(side_table::requests, "r1/0", test_record("r1", 2), test_record("r1", 1));
  auto decoded = decode_batch(encode_batch(w));
  REQUIRE(decoded);
  REQUIRE(decoded->ops().size() == 1);
  auto& sent = w.ops()[0];
  auto& got = decoded->ops()[0];
  CHECK(got.number == sent.number);
  CHECK(got.time_ms == sent.time_ms);
  CHECK(got.bytes == sent.bytes);
  // A condition from a newer build would be applied as a plain put here.
  auto unknown = decode_batch(one_op_batch(write_batch::op_kind::put_row, "r1/0",
                                           sent.number + 1,
                                           [](auto& pk) { pk.pack_int64(0); }));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == errc::corrupt_record);
  CHECK_THAT(unknown.error().message, Catch::Contains("unknown row condition"));
}

SCENARIO("copy_to holds exactly the batches queued before it", "[journal][replication]") {
  temp_dir dir, copy;
  auto j = open_journal(dir.path());
  REQUIRE(j->create_run_if_absent(make_run("r1")));
  std::vector<std::shared_ptr<std::promise<expected<void>>>> done;
  auto queue = [&](std::uint64_t seq) {
    auto p = std::make_shared<std::promise<expected<void>>>();
    done.push_back(p);
    j->commit(step_batch("r1", seq), [p](const expected<void>& r) { p->set_value(r); });
  };
  for (std::uint64_t s = 1; s <= 300; ++s)
    queue(s);
  std::promise<expected<void>> copied;
  j->copy_to(copy.path() + "/replica", [&](const expected<void>& r) { copied.set_value(r); });
  for (std::uint64_t s = 301; s <= 600; ++s)
    queue(s);
  REQUIRE(copied.get_future().get());
  for (auto& p : done)
    REQUIRE(p->get_future().get());
  auto c = open_journal(copy.path() + "/replica");
  auto in_copy = payloads(*c, "r1");
  REQUIRE(in_copy.size() == 300);
  CHECK(in_copy.back() == payload_for("r1", 300));
  REQUIRE(c->commit(step_batch("r1", 301)));  // the copy is a journal to go on with
  CHECK(payloads(*c, "r1").size() == 301);
}

SCENARIO("copy_to completes after every batch queued before it reached the sink",
         "[journal][replication]") {
  // The replication source numbers batches as the sink hands them over and
  // takes the copy's done as "the copy holds every batch numbered so far".
  struct counting_sink : commit_sink {
    std::atomic<std::size_t> seen{0};
    void committed(std::vector<write_batch> b, std::vector<completion> d) override {
      seen += b.size();
      for (auto& f : d)
        f(expected<void>{});
    }
  };
  temp_dir dir, copy;
  auto sink = std::make_shared<counting_sink>();
  auto j = open_with_sink(dir.path(), sink);
  REQUIRE(j->create_run_if_absent(make_run("r1")));
  for (std::uint64_t s = 1; s <= 500; ++s)
    j->commit(step_batch("r1", s), [](const expected<void>&) {});
  std::promise<std::size_t> seen_at_copy;
  j->copy_to(copy.path() + "/c", [&](const expected<void>& r) {
    seen_at_copy.set_value(r ? sink->seen.load() : SIZE_MAX);
  });
  CHECK(seen_at_copy.get_future().get() == 501);  // the run's creation and 500 steps
}
