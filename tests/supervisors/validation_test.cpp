// Spec validation: a bad spec is rejected before anything starts, with an
// error that names the field.
#include "endure/supervisors/dynamic_supervisor.hpp"
#include "endure/supervisors/supervisor.hpp"
#include "endure/supervisors/validate.hpp"

#include <caf/actor.hpp>

#include <catch2/catch.hpp>

using namespace endure;

namespace {

child_spec good(const std::string& id) {
  child_spec spec;
  spec.id = id;
  spec.start = [](caf::local_actor&) { return caf::actor{}; };
  return spec;
}

// The message of the error `validate` returns, or "" when it passes.
std::string message_of(const expected<void>& result) {
  if (result)
    return {};
  CHECK(result.error().code == errc::invalid_argument);
  return result.error().message;
}

} // namespace

TEST_CASE("supervisors: valid flags and specs pass", "[supervisors][validate]") {
  supervisor_flags flags;
  CHECK(validate(flags, {good("a"), good("b")}));
  CHECK(validate(flags, {}));
}

TEST_CASE("supervisors: each bad field is named", "[supervisors][validate]") {
  supervisor_flags flags;
  auto fails_with = [&](const supervisor_flags& f, std::vector<child_spec> c,
                        const std::string& field) {
    auto msg = message_of(validate(f, c));
    INFO("message: " << msg);
    CHECK(msg.rfind(field + ":", 0) == 0);
  };
  SECTION("flags") {
    auto f = flags;
    f.intensity = -1;
    fails_with(f, {}, "flags.intensity");
    f = flags;
    f.period = std::chrono::milliseconds{0};
    fails_with(f, {}, "flags.period");
    f = flags;
    f.backoff.multiplier = 0.5;
    fails_with(f, {}, "flags.backoff.multiplier");
    f = flags;
    f.backoff.max = std::chrono::milliseconds{1};
    fails_with(f, {}, "flags.backoff.max");
    f = flags;
    f.backoff.jitter = 1.5;
    fails_with(f, {}, "flags.backoff.jitter");
    f = flags;
    f.backoff.initial = std::chrono::milliseconds{-1};
    fails_with(f, {}, "flags.backoff.initial");
  }
  SECTION("children") {
    auto empty_id = good("");
    fails_with(flags, {good("a"), empty_id}, "children[1].id");
    auto no_start = good("b");
    no_start.start = nullptr;
    fails_with(flags, {good("a"), no_start}, "children[1].start");
    auto zero_timeout = good("c");
    zero_timeout.shutdown = shutdown_policy::after(std::chrono::milliseconds{0});
    fails_with(flags, {zero_timeout}, "children[0].shutdown.timeout");
  }
  SECTION("duplicate ids name both positions") {
    auto msg = message_of(validate(flags, {good("a"), good("b"), good("a")}));
    CHECK(msg.rfind("children[2].id:", 0) == 0);
    CHECK(msg.find("\"a\"") != std::string::npos);
    CHECK(msg.find("children[0]") != std::string::npos);
  }
}

TEST_CASE("supervisors: brutal_kill and infinity need no timeout", "[supervisors][validate]") {
  auto a = good("a");
  a.shutdown = shutdown_policy::brutal_kill();
  auto b = good("b");
  b.shutdown = shutdown_policy::infinity();
  CHECK(validate(supervisor_flags{}, {a, b}));
}

TEST_CASE("supervisors: nothing is spawned from a bad spec", "[supervisors][validate]") {
  supervisor_flags flags;
  flags.period = std::chrono::milliseconds{0};
  auto child = supervisor_child("inner", flags, {good("a")});
  REQUIRE_FALSE(child);
  CHECK(child.error().message.rfind("flags.period:", 0) == 0);
}

TEST_CASE("supervisors: dynamic supervisor specs are validated too",
          "[supervisors][validate]") {
  dynamic_supervisor_flags flags;
  dynamic_child_template tmpl;
  CHECK(message_of(validate(flags, tmpl)).rfind("child.start:", 0) == 0);
  tmpl.start = [](caf::local_actor&, const std::string&) { return caf::actor{}; };
  CHECK(validate(flags, tmpl));
  flags.intensity = -2;
  CHECK(message_of(validate(flags, tmpl)).rfind("flags.intensity:", 0) == 0);
}
