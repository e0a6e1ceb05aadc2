// The record envelope: round trips, and every way a stored record can be
// wrong is reported as an error value naming run and seq.
#include <catch2/catch.hpp>

#include <random>

#include "endure/persistence/detail/run_meta_codec.hpp"
#include "endure/persistence/record.hpp"

using namespace endure;

namespace {

record_types known_types() {
  record_types t;
  t.add(7, 2, "step_completed");
  return t;
}

} // namespace

TEST_CASE("a record survives encode and decode unchanged", "[record]") {
  auto types = known_types();
  for (std::size_t size : {0u, 1u, 31u, 200u, 70000u}) {
    record r{7, 2, std::string(size, 'x')};
    if (size > 0)
      r.payload[size / 2] = '\0';  // binary payloads are fine
    auto bytes = encode_record(r);
    auto back = decode_record(bytes, {"r1", 3}, types);
    REQUIRE(back);
    CHECK(*back == r);
  }
}

TEST_CASE("every single-byte corruption is detected, never decoded", "[record]") {
  auto types = known_types();
  auto bytes = encode_record({7, 1, std::string(200, 'p')});
  std::mt19937 rng{42};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 + rng() % 255));
    auto r = decode_record(damaged, {"run-x", 9}, types);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt_record);
    CHECK_THAT(r.error().message, Catch::Contains("run run-x seq 9"));
  }
}

TEST_CASE("truncated and garbage input are errors, not crashes", "[record]") {
  auto types = known_types();
  auto bytes = encode_record({7, 1, "hello"});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_record(std::string_view{bytes}.substr(0, n), {"r", 1}, types);
    REQUIRE_FALSE(r);
  }
  std::string huge_array = "\xdd\xff\xff\xff\xff";  // claims 4G elements
  CHECK_FALSE(decode_record(huge_array, {"r", 1}, types));
}

TEST_CASE("unknown tags and newer schemas are refused with a reason", "[record]") {
  auto types = known_types();
  auto unknown = decode_record(encode_record({99, 1, "x"}), {"r7", 4}, types);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == errc::unknown_record_type);
  CHECK_THAT(unknown.error().message, Catch::Contains("run r7 seq 4"));

  auto newer = decode_record(encode_record({7, 3, "x"}), {"r7", 5}, types);
  REQUIRE_FALSE(newer);
  CHECK(newer.error().code == errc::newer_record_version);
  CHECK_THAT(newer.error().message, Catch::Contains("step_completed"));
}

TEST_CASE("run metadata and snapshots round-trip", "[record]") {
  run_meta m{"r-1", "content_pipeline", run_status::quarantined, 5, 9, "crashed 3 times"};
  auto back = detail::decode_run_meta(detail::encode_run_meta(m), m.id);
  REQUIRE(back);
  CHECK(*back == m);
  for (auto s : {run_status::running, run_status::waiting, run_status::completed,
                 run_status::failed, run_status::cancelled, run_status::quarantined}) {
    CHECK(parse_run_status(to_string(s)) == s);
  }
  std::string state("state\0bytes", 11);
  auto snap = detail::decode_snapshot(detail::encode_snapshot(42, state), "r-1");
  REQUIRE(snap);
  CHECK(snap->first == 42);
  CHECK(snap->second == state);
}
