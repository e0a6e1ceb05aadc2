// See heap_trim.hpp.
#include "actors/heap_trim.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace endure {

void release_free_heap() noexcept {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

} // namespace endure
