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

/// Keywords of the last user message, its `[sim: ...]` directives left out.
std::vector<std::string> sim_prompt_words(const chat_request& request, std::size_t max);

/// A few sentences answering the conversation's last message.
std::string sim_text(const chat_request& request, sim_rng& rng);

/// JSON text valid for the simple cases of `schema_json` (object with
/// properties, every property filled and every required name present;
/// array within minItems/maxItems; string within minLength/maxLength;
/// number and integer within minimum/maximum; boolean; enum; const; the
/// first branch of anyOf/oneOf/allOf), filled from `words`. Unsupported
/// constructs yield a string.
std::string sim_json(std::string_view schema_json, const std::vector<std::string>& words,
                     sim_rng& rng);

/// sim_json filled from the request's prompt words (sim_prompt_words).
std::string sim_json(std::string_view schema_json, const chat_request& request, sim_rng& rng);

/// JSON text that breaks `schema_json` on purpose, as a model's bad tool
/// arguments do: sim_json's value without the first required property;
/// with none required, the first constrained property given a value of the
/// wrong type; failing that, an array where an object belongs.
std::string sim_invalid_json(std::string_view schema_json, const std::vector<std::string>& words,
                             sim_rng& rng);

/// Unit vector of `dims` floats.
std::vector<float> sim_embedding(std::string_view text, std::size_t dims);

} // namespace endure::net::detail
