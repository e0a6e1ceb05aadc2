// The child process of the memory crash test: writes entries one at a
// time (each its own synced commit) and erases every seventh's
// predecessor-but-two, printing "put I" / "erased I" once each write has
// returned; the test kills it with SIGKILL at some point.
#include <cstdio>
#include <cstdlib>

#include "endure/actors/state/memory_store.hpp"
#include "endure/persistence/journal.hpp"
#include "state/memory_child.hpp"

using namespace endure;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: memory_child DATA_DIR COUNT\n");
    return 2;
  }
  auto j = journal::open({.data_dir = argv[1]});
  if (!j) {
    std::fprintf(stderr, "%s\n", j.error().to_string().c_str());
    return 1;
  }
  auto m = state::memory_store::open(**j, test::memory_child_options());
  if (!m) {
    std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
    return 1;
  }
  int count = std::atoi(argv[2]);
  for (int i = 0; i < count; ++i) {
    state::memory_entry e;
    e.ns = "crash";
    e.key = test::memory_child_key(i);
    e.text = "text " + std::to_string(i);
    e.embedding = test::memory_child_vector(i);
    if (auto ok = (*m)->put(e); !ok) {
      std::fprintf(stderr, "%s\n", ok.error().to_string().c_str());
      return 1;
    }
    std::printf("put %d\n", i);
    if (i % 7 == 6) {
      if (auto ok = (*m)->erase("crash", test::memory_child_key(i - 3)); !ok || !*ok)
        return 1;
      std::printf("erased %d\n", i - 3);
    }
    std::fflush(stdout);
  }
  return 0;
}
