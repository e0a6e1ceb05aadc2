// Helpers the policy tests share: parse text that must load (or must not).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "endure/actors/gateway/policy.hpp"

namespace endure::test {

/// The policy `yaml` describes; fails the test (with the error) if refused.
inline gateway::policy must_load(std::string_view yaml) {
  auto p = gateway::parse_policy(yaml, "policy.yaml");
  INFO(yaml);
  if (!p)
    FAIL(p.error().message);
  return std::move(p).value();
}

/// The message parse_policy refuses `yaml` with; fails the test if it loads.
inline std::string refusal(std::string_view yaml) {
  auto p = gateway::parse_policy(yaml, "policy.yaml");
  INFO(yaml);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().code == errc::invalid_argument);
  return p.error().message;
}

} // namespace endure::test
