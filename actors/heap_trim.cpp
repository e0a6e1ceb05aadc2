// See heap_trim.hpp.
#include "endure/actors/heap_trim.hpp"

#include <dlfcn.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace endure {

namespace {

using mallctl_fn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

/// jemalloc's mallctl when the program runs on jemalloc (the `endure` CLI
/// links it): looked up, not linked, so the library stays neutral about
/// the allocator of the program it is embedded in.
mallctl_fn jemalloc_mallctl() noexcept {
  static const auto fn = reinterpret_cast<mallctl_fn>(::dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

} // namespace

void release_free_heap() noexcept {
  if (auto mallctl = jemalloc_mallctl()) {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty pages.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

} // namespace endure
