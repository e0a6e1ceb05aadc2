// jemalloc's settings for the programs that link it (CMake target
// endure_program_allocator; jemalloc reads this symbol at start-up, and
// $MALLOC_CONF still overrides it). Without jemalloc it is unused.
//
// dirty_decay_ms: freed pages go back to the OS after ~1 s instead of ~10 s.
// 100,000 runs parking at once (bench/pipeline --scale) peak at ~440 MiB
// instead of ~490, and throughput does not suffer (bench/README.md).
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's contract.
const char* malloc_conf = "dirty_decay_ms:1000";
}
