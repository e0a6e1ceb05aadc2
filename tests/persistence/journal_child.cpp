// Child process for the crash and lock tests.
//
//   journal_child append DIR RUNS  - RUNS threads append to runs c0..cN-1,
//       each continuing from the run's last seq; after each acknowledged
//       commit prints "RUN SEQ" (one write() per line). Stops after 100000.
//   journal_child append_on_go DIR RUNS - as append, once it printed
//       "opened" and read a line from stdin.
//   journal_child hold DIR         - opens DIR, prints "held", sleeps 60 s.
//   journal_child hold_read_only DIR - the same, opened read-only.
//   journal_child fill DIR ENTRIES - with heads_checkpoint_entries ENTRIES,
//       writes runs good and bad (seqs 1..5, one commit per run: log
//       positions 1..5 and 6..10) and t (seqs 1..20, truncated below 8,
//       then 21 and 22), prints "written", sleeps 60 s (to be killed).
// With JOURNAL_CHILD_WAL=BYTES:SIZE in the environment the journal is
// opened in durability::wal, with a log of SIZE bytes and a checkpoint
// every BYTES bytes (and no timed checkpoints). With JOURNAL_CHILD_MIXED=1
// the map starts at 256 KiB (it grows many times: groups redone) and
// "append" adds a thread whose batches all fail (seq 1 of run f, taken),
// so groups mix failed and written batches.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"

using namespace endure;

namespace {

/// Commits batches that fail (run f's seq 1 is taken) until the process ends.
void fail_forever(journal& j) {
  if (!j.create_run_if_absent(test::make_run("f")))
    std::_Exit(3);
  write_batch first;
  first.append("f", 1, test::test_record("f", 1));
  (void)j.commit(std::move(first));  // taken already after the first kill
  for (;;) {
    write_batch b;
    b.append("f", 1, test::test_record("f", 1));
    if (auto r = j.commit(std::move(b)); !r && r.error().code != errc::already_exists) {
      std::fprintf(stderr, "unexpected failure: %s\n", r.error().to_string().c_str());
      std::_Exit(7);
    }
  }
}

int append_loop(journal& j, int runs) {
  std::vector<std::thread> threads;
  if (std::getenv("JOURNAL_CHILD_MIXED"))
    std::thread{[&j] { fail_forever(j); }}.detach();
  for (int t = 0; t < runs; ++t) {
    threads.emplace_back([&j, t] {
      auto run = "c" + std::to_string(t);
      if (!j.create_run_if_absent(test::make_run(run)))
        std::_Exit(3);
      auto seq = *j.last_seq(run);
      for (int i = 0; i < 100000; ++i) {
        ++seq;
        write_batch b;
        b.append(run, seq, test::test_record(run, seq));
        if (auto r = j.commit(std::move(b)); !r) {
          std::fprintf(stderr, "append failed: %s\n", r.error().to_string().c_str());
          std::_Exit(4);
        }
        auto line = run + " " + std::to_string(seq) + "\n";
        if (::write(1, line.data(), line.size()) < 0)
          std::_Exit(5);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return 0;
}

int fill(journal& j) {
  for (auto run : {"good", "bad", "t"})
    if (!j.create_run_if_absent(test::make_run(run)))
      return 3;
  auto append = [&](const char* run, std::uint64_t from, std::uint64_t to) {
    write_batch b;
    for (auto seq = from; seq <= to; ++seq)
      b.append(run, seq, test::test_record(run, seq));
    return j.commit(std::move(b));
  };
  write_batch cut;
  cut.truncate_before("t", 8);
  if (!append("good", 1, 5) || !append("bad", 1, 5) || !append("t", 1, 20)
      || !j.commit(std::move(cut)) || !append("t", 21, 22))
    return 4;
  std::puts("written");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3)
    return 2;
  std::string cmd = argv[1];
  journal_options opts{.data_dir = argv[2]};
  opts.read_only = cmd == "hold_read_only";
  if (cmd == "fill" && argc == 4)
    opts.heads_checkpoint_entries = std::stoul(argv[3]);
  if (std::getenv("JOURNAL_CHILD_MIXED"))
    opts.initial_map_size = 256 * 1024;
  if (const char* wal = std::getenv("JOURNAL_CHILD_WAL")) {
    opts.mode = durability::wal;
    std::string spec = wal;
    opts.wal_checkpoint_bytes = std::stoull(spec.substr(0, spec.find(':')));
    opts.wal_size = std::stoull(spec.substr(spec.find(':') + 1));
    opts.wal_checkpoint_interval = std::chrono::hours{1};
  }
  auto j = journal::open(opts);
  if (!j) {
    std::fprintf(stderr, "%s\n", j.error().to_string().c_str());
    return 1;
  }
  (*j)->types().add(test::test_tag, 1, "test");
  if (cmd == "hold" || cmd == "hold_read_only") {
    std::puts("held");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return 0;
  }
  if (cmd == "fill" && argc == 4)
    return fill(**j);
  if (cmd == "append" && argc == 4)
    return append_loop(**j, std::stoi(argv[3]));
  if (cmd == "append_on_go" && argc == 4) {
    std::puts("opened");
    std::fflush(stdout);
    std::string go;
    if (!std::getline(std::cin, go))
      return 6;
    return append_loop(**j, std::stoi(argv[3]));
  }
  return 2;
}
