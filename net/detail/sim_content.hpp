// Content generation for the sim model: plausible text from a prompt,
// JSON values from a JSON Schema, embeddings from words. Internal to
// net/sim_engine.cpp; deterministic given the rng state; any thread.
#pragma once

#include "endure/net/chat_types.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace endure::net::detail {

/// splitmix64: small, fast, and the same on every platform.
class sim_rng {
public:
  explicit sim_rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept;
  /// Uniform in [0, 1).
  double unit() noexcept;
  /// Uniform in [0, n); 0 when n == 0.
  std::size_t below(std::size_t n) noexcept;

private:
  std::uint64_t state_;
};

/// FNV-1a of `text`, mixed with `seed`.
std::uint64_t sim_hash(std::string_view text, std::uint64_t seed) noexcept;

/// Distinct lower-case content words of `text`, in order, at most `max`.
std::vector<std::string> sim_keywords(std::string_view text, std::size_t max);

/// A few sentences answering the conversation's last message.
std::string sim_text(const chat_request& request, sim_rng& rng);

/// JSON text valid for the simple cases of `schema_json`, filled from the
/// request's keywords. Unsupported constructs yield a string.
std::string sim_json(std::string_view schema_json, const chat_request& request, sim_rng& rng);

/// Unit vector of `dims` floats.
std::vector<float> sim_embedding(std::string_view text, std::size_t dims);

} // namespace endure::net::detail
