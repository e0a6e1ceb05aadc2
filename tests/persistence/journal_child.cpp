// Child process for the crash and lock tests.
//
//   journal_child append DIR RUNS  - RUNS threads append to runs c0..cN-1,
//       each continuing from the run's last seq; after each acknowledged
//       commit prints "RUN SEQ" (one write() per line). Stops after 100000.
//   journal_child hold DIR         - opens DIR, prints "held", sleeps 60 s.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "persistence/journal.hpp"
#include "persistence/test_records.hpp"

using namespace endure;

namespace {

int append_loop(journal& j, int runs) {
  std::vector<std::thread> threads;
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

} // namespace

int main(int argc, char** argv) {
  if (argc < 3)
    return 2;
  std::string cmd = argv[1];
  auto j = journal::open({.data_dir = argv[2]});
  if (!j) {
    std::fprintf(stderr, "%s\n", j.error().to_string().c_str());
    return 1;
  }
  (*j)->types().add(test::test_tag, 1, "test");
  if (cmd == "hold") {
    std::puts("held");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return 0;
  }
  if (cmd == "append" && argc == 4)
    return append_loop(**j, std::stoi(argv[3]));
  return 2;
}
