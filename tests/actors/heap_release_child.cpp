// Helper for heap_trim_test: linked like the `endure` CLI (jemalloc when the
// build links it). Fills ~150 MiB with small blocks, frees 99 of every 100
// (the survivors keep the allocator from giving pages back by itself), then
// prints its resident memory before and after endure::release_free_heap():
//   <allocator> before_kib N after_kib M
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "endure/actors/heap_trim.hpp"

namespace {

long resident_kib() {
  std::ifstream statm{"/proc/self/statm"};
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

} // namespace

int main() {
  constexpr std::size_t blocks = 300'000, block_size = 512;
  std::vector<void*> heap(blocks);
  for (auto& p : heap) {
    p = std::malloc(block_size);
    std::memset(p, 1, block_size);
  }
  for (std::size_t i = 0; i < blocks; ++i)
    if (i % 100 != 0)
      std::free(heap[i]);
  long before = resident_kib();
  endure::release_free_heap();
  long after = resident_kib();
  std::printf("%s before_kib %ld after_kib %ld\n",
              ::dlsym(RTLD_DEFAULT, "mallctl") ? "jemalloc" : "libc", before, after);
  for (std::size_t i = 0; i < blocks; i += 100)
    std::free(heap[i]);
  return 0;
}
