// durability::wal: every acknowledged commit survives a kill -9 in any
// phase (appending, wrapping the ring, checkpointing) and an OS crash that
// leaves every page written since the last checkpoint damaged; a directory
// switches modes without losing anything; a reader does not read a
// data.mdb an OS crash may have left half written.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <sstream>

#include "endure/persistence/detail/wal_file.hpp"
#include "endure/persistence/detail/wal_record.hpp"
#include "endure/persistence/journal.hpp"
#include "persistence/acked_appends.hpp"
#include "persistence/test_records.hpp"
#include "support/child_process.hpp"
#include "support/scoped_rlimit.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

journal_options wal_options(const std::string& dir, std::uint64_t size = 128 * 1024) {
  journal_options o;
  o.data_dir = dir;
  o.mode = durability::wal;
  o.wal_size = size;
  return o;
}

void verify(std::unique_ptr<journal>& j, const acked_map& acked) { verify_acked(*j, acked); }

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// What an OS crash may leave: every 4 KiB page that differs from `synced`
/// (the file as the last checkpoint synced it) or lies past its end is
/// replaced by garbage, as if none of those writes reached the disk whole.
std::size_t damage_unsynced_pages(const std::filesystem::path& file, const std::string& synced) {
  auto now = read_file(file);
  constexpr std::size_t page = 4096;
  std::size_t damaged = 0;
  for (std::size_t at = 0; at < now.size(); at += page) {
    auto len = std::min(page, now.size() - at);
    if (at + len <= synced.size() && now.compare(at, len, synced, at, len) == 0)
      continue;
    now.replace(at, len, std::string(len, '\xab'));
    ++damaged;
  }
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  out.write(now.data(), static_cast<std::streamsize>(now.size()));
  return damaged;
}

/// An environment variable for the children started in its scope.
struct child_env {
  const char* name;
  child_env(const char* n, const char* value) : name{n} { ::setenv(name, value, 1); }
  ~child_env() { ::unsetenv(name); }
};

struct wal_child_env : child_env {
  explicit wal_child_env(const char* checkpoint_bytes)
      : child_env{"JOURNAL_CHILD_WAL", checkpoint_bytes} {}
};

/// A wal-mode child appending to `runs` runs, killed with SIGKILL after
/// `count` acknowledgements (checkpoint spec as JOURNAL_CHILD_WAL).
acked_map append_then_kill(const std::string& dir, const char* spec, const char* runs,
                           unsigned count) {
  wal_child_env wal{spec};
  child_process child{{JOURNAL_CHILD_PATH, "append", dir, runs}};
  acked_map acked;
  read_acks(child, count, acked);
  child.kill_hard();
  return acked;
}

} // namespace

SCENARIO("wal: acknowledged appends survive SIGKILL while the ring wraps and checkpoints",
         "[wal][crash]") {
  temp_dir dir;
  wal_child_env wal{"24576:131072"};
  std::mt19937 rng{std::random_device{}()};
  acked_map acked;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  int kills = 0;
  for (int iter = 0; iter < 60 && std::chrono::steady_clock::now() < deadline; ++iter) {
    // A 128 KiB log: checkpoints due every 24 KiB of records, or only when
    // the ring is full (the group then waits for one and is redone).
    ::setenv("JOURNAL_CHILD_WAL", iter % 2 ? "1000000000:131072" : "24576:131072", 1);
    child_process child{{JOURNAL_CHILD_PATH, "append", dir.path(), "4"}};
    read_acks(child, 1 + rng() % 1500, acked);
    child.kill_hard();
    ++kills;
    auto j = open_journal(wal_options(dir.path()));  // recovers, then closes cleanly
    verify(j, acked);
  }
  CHECK(kills >= 10);
  CHECK(acked.size() == 4);
}

SCENARIO("wal: acknowledged appends survive SIGKILL while groups mix failing batches and the "
         "map grows", "[wal][crash]") {
  temp_dir dir;
  wal_child_env wal{"24576:131072"};
  child_env mixed{"JOURNAL_CHILD_MIXED", "1"};
  std::mt19937 rng{std::random_device{}()};
  acked_map acked;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  int kills = 0;
  for (int iter = 0; iter < 8 && std::chrono::steady_clock::now() < deadline; ++iter) {
    child_process child{{JOURNAL_CHILD_PATH, "append", dir.path(), "3"}};
    read_acks(child, 300 + rng() % 1500, acked);
    child.kill_hard();
    ++kills;
    auto opts = wal_options(dir.path());
    opts.initial_map_size = 256 * 1024;  // as the child's: the map keeps growing
    auto j = open_journal(opts);  // recovers, then closes cleanly
    verify(j, acked);
  }
  // Past the 256 KiB the map started at: it grew.
  CHECK(std::filesystem::file_size(std::filesystem::path{dir.path()} / "data.mdb") > 256 * 1024);
  CHECK(kills >= 3);
  CHECK(acked.size() == 3);
}

SCENARIO("wal: an OS crash that damages every page written since the checkpoint loses no "
         "acknowledged commit", "[wal][crash]") {
  temp_dir dir;
  auto data = std::filesystem::path{dir.path()} / "data.mdb";
  {
    auto j = open_journal(wal_options(dir.path(), 8 << 20));
    REQUIRE(j->create_run_if_absent(make_run("c0")));
  }
  // No checkpoint after the child's open (a log of 8 MiB, none due): every
  // commit it acknowledges lives in data.mdb's unsynced pages and the log.
  wal_child_env wal{"1000000000:8388608"};
  child_process child{{JOURNAL_CHILD_PATH, "append_on_go", dir.path(), "4"}};
  REQUIRE(child.read_line(10s) == std::optional<std::string>{"opened"});
  auto synced = read_file(data);  // the child's open checkpointed: this is on disk
  auto checkpoint_number = [&] {
    auto log = detail::wal_file::open(dir.path() + "/journal.wal");
    REQUIRE(log);
    return log->checkpoint().number;
  };
  auto opened_at = checkpoint_number();
  child.write_stdin("go\n");
  acked_map acked;
  read_acks(child, 600, acked);
  child.kill_hard();
  REQUIRE(checkpoint_number() == opened_at);
  auto damaged = damage_unsynced_pages(data, synced);
  INFO(damaged << " pages damaged");
  CHECK(damaged > 20);
  auto j = open_journal(wal_options(dir.path()));
  verify(j, acked);
  // And it goes on: the recovered journal takes new commits.
  write_batch b;
  b.append("c0", acked["c0"], test_record("c0", acked["c0"]));
  CHECK_FALSE(j->commit(std::move(b)));  // taken: the recovered heads hold
  write_batch next;
  auto last = *j->last_seq("c0");
  next.append("c0", last + 1, test_record("c0", last + 1));
  CHECK(j->commit(std::move(next)));
}

SCENARIO("wal: the map grows while the checkpoint is pinned", "[wal]") {
  temp_dir dir;
  auto opts = wal_options(dir.path(), 8 << 20);
  opts.initial_map_size = 1 << 20;  // grows several times below
  acked_map acked;
  {
    auto j = open_journal(opts);
    REQUIRE(j->create_run_if_absent(make_run("big")));
    std::string bulk(3000, 'b');
    for (std::uint64_t seq = 1; seq <= 2000; ++seq) {
      write_batch b;
      b.append("big", seq, test_record("big", seq));
      b.put_row(side_table::requests, "r" + std::to_string(seq), test_record(bulk, seq));
      REQUIRE(j->commit(std::move(b)));
    }
    acked["big"] = 2000;
    CHECK(j->stats().map_size > (std::size_t{1} << 20));
  }
  auto j = open_journal(opts);
  verify(j, acked);
  auto row = j->row(side_table::requests, "r2000");
  REQUIRE(row);
  CHECK(*row);
}

SCENARIO("wal: a directory written in wal mode and killed opens in sync mode, and back",
         "[wal]") {
  temp_dir dir;
  auto acked = append_then_kill(dir.path(), "24576:131072", "2", 300);
  auto log = std::filesystem::path{dir.path()} / "journal.wal";
  REQUIRE(std::filesystem::exists(log));
  {
    auto j = open_journal(dir.path());  // sync: recovers from the log, then removes it
    verify(j, acked);
    CHECK_FALSE(std::filesystem::exists(log));
  }
  auto j = open_journal(wal_options(dir.path()));
  CHECK(std::filesystem::file_size(log) == 128 * 1024);
  verify(j, acked);
}

SCENARIO("wal: a reader refuses a journal an OS crash may have left half written", "[wal]") {
  temp_dir dir;
  auto acked = append_then_kill(dir.path(), "1000000000:131072", "1", 20);
  auto log_path = dir.path() + "/journal.wal";
  WHEN("the log's writer ran under this boot") {
    THEN("the reader reads: the page cache holds every write") {
      CHECK(journal::open(read_only_options(dir.path())));
    }
  }
  WHEN("it ran under another boot and did not close") {
    {  // the same checkpoint and records, another boot's id
      auto log = detail::wal_file::open(log_path);
      REQUIRE(log);
      auto c = log->checkpoint();
      c.boot_id = "00000000-0000-0000-0000-000000000000";
      REQUIRE(log->write_checkpoint(c));
    }
    THEN("the reader refuses, and says to open it for writing once") {
      auto r = journal::open(read_only_options(dir.path()));
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::invalid_state);
      CHECK_THAT(r.error().message, Catch::Contains("Open it once for writing"));
      AND_THEN("a writer recovers every acknowledged commit, and the reader reads it after") {
        {
          auto j = open_journal(wal_options(dir.path()));
          verify(j, acked);
        }
        CHECK(journal::open(read_only_options(dir.path())));
      }
    }
  }
}

SCENARIO("wal: a recovery waits for a reader process to close the journal", "[wal]") {
  temp_dir dir;
  auto acked = append_then_kill(dir.path(), "1000000000:131072", "1", 50);
  auto data = std::filesystem::path{dir.path()} / "data.mdb";
  child_process reader{{JOURNAL_CHILD_PATH, "hold_read_only", dir.path()}};
  REQUIRE(reader.read_line(10s) == std::optional<std::string>{"held"});
  auto before = read_file(data);
  auto r = journal::open(wal_options(dir.path()));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_state);
  CHECK_THAT(r.error().message, Catch::Contains("another process has it open"));
  CHECK(read_file(data) == before);  // nothing written
  reader.kill_hard();
  {
    auto j = open_journal(wal_options(dir.path()));
    verify(j, acked);
  }  // closed cleanly: a restart has nothing to rewrite
  child_process still_reading{{JOURNAL_CHILD_PATH, "hold_read_only", dir.path()}};
  REQUIRE(still_reading.read_line(10s) == std::optional<std::string>{"held"});
  auto j = open_journal(wal_options(dir.path()));  // not refused
  verify(j, acked);
}

SCENARIO("wal: a log beside a data.mdb it does not belong to is refused", "[wal]") {
  temp_dir dir, backup;
  {
    auto j = open_journal(wal_options(dir.path()));
    REQUIRE(j->create_run_if_absent(make_run("r")));
    std::ofstream{backup.path() + "/journal.wal"} << "a log of an older copy";
    std::promise<expected<void>> copied;
    j->copy_to(backup.path(), [&](const expected<void>& r) { copied.set_value(r); });
    REQUIRE(copied.get_future().get());  // a backup, taken early
  }
  auto acked = append_then_kill(dir.path(), "1000000000:131072", "1", 50);
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path{backup.path()} / "journal.wal"));
  // The backup restored over data.mdb, the log left beside it.
  auto data = std::filesystem::path{dir.path()} / "data.mdb";
  std::filesystem::copy_file(std::filesystem::path{backup.path()} / "data.mdb", data,
                             std::filesystem::copy_options::overwrite_existing);
  auto before = read_file(data);
  auto r = journal::open(wal_options(dir.path()));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::corrupt_record);
  CHECK_THAT(r.error().message, Catch::Contains("does not belong to"));
  CHECK(read_file(data) == before);
}

SCENARIO("wal: a group larger than the ring commits in parts, each logged before LMDB takes "
         "it", "[wal]") {
  temp_dir dir;
  auto opts = wal_options(dir.path());  // 128 KiB: 96 KiB of ring
  opts.wal_checkpoint_interval = std::chrono::hours{1};  // only a full ring checkpoints
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  opts.inject_fault = [&entered, released](const write_batch& b) -> expected<void> {
    if (b.ops().front().run_id == "hold") {  // holds the writer while the group queues
      entered.set_value();
      released.wait();
    }
    return {};
  };
  constexpr int parts = 6;  // 6 x 20 KiB: one group, larger than the ring
  std::promise<expected<void>> held;
  std::vector<std::promise<expected<void>>> acks(parts);
  auto j = open_journal(opts);
  struct release_at_exit {  // a failed REQUIRE must not leave the writer held
    std::promise<void>& p;
    bool done = false;
    void operator()() { if (!std::exchange(done, true)) p.set_value(); }
    ~release_at_exit() { (*this)(); }
  } release_writer{release};
  write_batch hold;
  hold.put_row(side_table::requests, "hold", test_record("hold", 1));
  j->commit(std::move(hold), [&](const expected<void>& r) { held.set_value(r); });
  REQUIRE(entered.get_future().wait_for(10s) == std::future_status::ready);
  for (int i = 0; i < parts; ++i) {
    write_batch b;
    b.put_row(side_table::requests, "part-" + std::to_string(i),
              record{test_tag, 1, std::string(20 * 1024, static_cast<char>('a' + i))});
    j->commit(std::move(b), [&acks, i](const expected<void>& r) { acks[i].set_value(r); });
  }
  release_writer();
  auto held_done = held.get_future();
  REQUIRE(held_done.wait_for(10s) == std::future_status::ready);
  REQUIRE(held_done.get());
  for (auto& a : acks) {
    auto f = a.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get());
  }
  for (int i = 0; i < parts; ++i) {
    auto row = j->row(side_table::requests, "part-" + std::to_string(i));
    REQUIRE(row);
    CHECK(*row);
  }
  // The last part's record is in the log: durable before LMDB committed it
  // (not made durable by a checkpoint after readers could see it).
  auto log = detail::wal_file::open(dir.path() + "/journal.wal", /*read_only=*/true);
  REQUIRE(log);
  auto records = log->read_records();
  REQUIRE(records);
  REQUIRE_FALSE(records->empty());
  auto last = detail::decode_wal_record(records->back());
  REQUIRE(last);
  CHECK(last->size() < parts);
  REQUIRE_FALSE(last->empty());
  CHECK(last->back().ops().front().run_id == "part-5");
}

SCENARIO("wal: one batch larger than the ring is acknowledged once a checkpoint made it "
         "durable", "[wal]") {
  temp_dir dir;
  std::string big(200 * 1024, 'x');
  {
    auto j = open_journal(wal_options(dir.path()));
    write_batch b;
    b.put_row(side_table::requests, "big", record{test_tag, 1, big});
    REQUIRE(j->commit(std::move(b)));
    auto log = detail::wal_file::open(dir.path() + "/journal.wal", /*read_only=*/true);
    REQUIRE(log);
    auto records = log->read_records();
    REQUIRE(records);
    CHECK(records->empty());  // the checkpoint after it came before the acknowledgement
    write_batch after;  // and the journal goes on
    after.put_row(side_table::requests, "after", test_record("after", 1));
    REQUIRE(j->commit(std::move(after)));
  }
  auto j = open_journal(wal_options(dir.path()));
  auto row = j->row(side_table::requests, "big");
  REQUIRE(row);
  REQUIRE(*row);
  CHECK((*row)->payload == big);
}

SCENARIO("wal: a log closed cleanly beside a data.mdb written since without it is dropped, "
         "not applied", "[wal]") {
  temp_dir dir, aside;
  auto log = std::filesystem::path{dir.path()} / "journal.wal";
  auto stale = std::filesystem::path{aside.path()} / "journal.wal";
  {
    auto j = open_journal(wal_options(dir.path()));
    REQUIRE(j->create_run_if_absent(make_run("r")));
  }
  // A data.mdb newer than the log's checkpoint, the log put back beside it
  // (a mirror that kept an old journal.wal, a data.mdb copied in).
  std::filesystem::copy_file(log, stale);
  {
    auto j = open_journal(dir.path());  // sync: removes the log
    for (std::uint64_t seq = 1; seq <= 50; ++seq) {
      write_batch b;
      b.append("r", seq, test_record("r", seq));
      REQUIRE(j->commit(std::move(b)));
    }
  }
  std::filesystem::copy_file(stale, log);
  auto j = open_journal(wal_options(dir.path()));  // not put back at the log's checkpoint
  verify(j, {{"r", 50}});
  CHECK(*j->last_seq("r") == 50);
  write_batch next;
  next.append("r", 51, test_record("r", 51));
  CHECK(j->commit(std::move(next)));
  auto fresh = detail::wal_file::open(log.string(), /*read_only=*/true);
  REQUIRE(fresh);
  CHECK_FALSE(fresh->checkpoint().boot_id.empty());  // a new log, in use
}

SCENARIO("wal file: a log that cannot be written whole leaves no file behind", "[wal]") {
  temp_dir dir;
  auto path = dir.path() + "/journal.wal";
  detail::wal_checkpoint first;
  first.meta_pages = std::string(8192, 'm');
  auto capped_create = [&] {
    // A write past the cap then fails with EFBIG, as on a full disk,
    // instead of raising SIGXFSZ.
    auto handler = std::signal(SIGXFSZ, SIG_IGN);
    test::scoped_rlimit cap{RLIMIT_FSIZE, 1 << 20};  // the log needs 4 MiB
    auto made = cap.ok() ? detail::wal_file::create(path, 4 << 20, first)
                         : make_error(errc::io_error, "RLIMIT_FSIZE could not be lowered");
    cap.restore();
    std::signal(SIGXFSZ, handler);
    return made;
  };
  auto log = capped_create();
  REQUIRE_FALSE(log);
  CHECK(log.error().code == errc::io_error);
  CHECK_FALSE(std::filesystem::exists(path + ".new"));  // its 1 MiB given back
  CHECK_FALSE(std::filesystem::exists(path));
  // And the same call succeeds once the disk has room.
  CHECK(detail::wal_file::create(path, 4 << 20, first));
  CHECK(std::filesystem::file_size(path) == 4 << 20);
}

SCENARIO("wal file: the records after the checkpoint, across the ring's end", "[wal]") {
  temp_dir dir;
  auto path = dir.path() + "/journal.wal";
  detail::wal_checkpoint first;
  first.meta_pages = std::string(8192, 'm');
  auto log = detail::wal_file::create(path, 128 * 1024, first);
  REQUIRE(log);
  std::string payload(20000, 'p');
  std::vector<std::string> written;
  // Fill, checkpoint, fill again: the second lap wraps past the end.
  for (int lap = 0; lap < 3; ++lap) {
    written.clear();
    for (int i = 0; log->fits(payload.size()); ++i) {
      payload[0] = static_cast<char>('a' + i);
      payload[1] = static_cast<char>('0' + lap);
      REQUIRE(log->append(payload));
      written.push_back(payload);
    }
    CHECK(written.size() >= 3);
    auto reopened = detail::wal_file::open(path);
    REQUIRE(reopened);
    auto records = reopened->read_records();
    REQUIRE(records);
    CHECK(*records == written);
    REQUIRE(log->write_checkpoint(log->checkpoint()));
  }
  WHEN("the last record is torn") {
    REQUIRE(log->append("one"));
    REQUIRE(log->append(std::string(100, 'x')));
    auto bytes = read_file(path);
    auto at = bytes.rfind(std::string(100, 'x'));
    REQUIRE(at != std::string::npos);
    {
      std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
      f.seekp(static_cast<std::streamoff>(at + 50));
      f.put('y');
    }
    THEN("the scan ends before it") {
      auto reopened = detail::wal_file::open(path);
      REQUIRE(reopened);
      auto records = reopened->read_records();
      REQUIRE(records);
      CHECK(*records == std::vector<std::string>{"one"});
    }
  }
  WHEN("the newest checkpoint slot is torn") {
    auto before = log->checkpoint().number;
    REQUIRE(log->append("kept"));
    auto c = log->checkpoint();
    c.lmdb_txnid = 77;
    REQUIRE(log->write_checkpoint(c));
    auto number = log->checkpoint().number;
    {
      std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
      f.seekp(static_cast<std::streamoff>((number % 2 == 1 ? 0 : 1) * detail::wal_file::slot_size + 40));
      f.put('\x01');
    }
    THEN("the previous checkpoint holds, with the records after it") {
      auto reopened = detail::wal_file::open(path);
      REQUIRE(reopened);
      CHECK(reopened->checkpoint().number == before);
      auto records = reopened->read_records();
      REQUIRE(records);
      CHECK(*records == std::vector<std::string>{"kept"});
    }
  }
}
