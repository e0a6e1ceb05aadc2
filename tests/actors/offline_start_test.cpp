// A run journaled while no runtime holds the directory (`endure start`):
// the next runtime executes it, exactly as if runtime::start had made it.
#include <catch2/catch.hpp>

#include "endure/actors/offline_control.hpp"
#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

task<int> add_one(context& ctx, int n) {
  auto inc = [](int x) { return x + 1; };
  co_return co_await ctx.step("inc", inc, n);
}

} // namespace

SCENARIO("a run started offline is executed by the next runtime", "[workflow][offline]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("add_one", &add_one); }};
  f.close();
  {
    auto store = f.open_journal();
    auto first = start_offline(*store, "r1", "add_one", to_bytes(41));
    REQUIRE(first);
    CHECK(*first == run_status::running);
    // Idempotent: the same id again changes nothing, even with other input.
    auto again = start_offline(*store, "r1", "add_one", to_bytes(0));
    REQUIRE(again);
    CHECK(*again == run_status::running);
    auto records = store->read("r1");
    REQUIRE(records);
    CHECK(records->size() == 1);

    // Another workflow under that id is refused, as runtime::start does.
    auto other = start_offline(*store, "r1", "add_two", to_bytes(1));
    REQUIRE_FALSE(other);
    CHECK(other.error().code == errc::invalid_state);
    CHECK_THAT(other.error().message, Catch::Contains("'add_one', not 'add_two'"));

    auto bad = start_offline(*store, std::string{"a\0b", 3}, "add_one", to_bytes(1));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == errc::invalid_argument);
  }
  f.open();
  auto out = f.rt().wait("r1", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 42);
}
