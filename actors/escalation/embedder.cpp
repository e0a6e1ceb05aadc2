// Hashed n-gram embedding (feature hashing with signs, Weinberger et al.).
#include "endure/actors/escalation/embedder.hpp"

#include "endure/actors/escalation/detail/words.hpp"

#include <cctype>
#include <cmath>
#include <string>

#include <xxhash.h>

namespace endure::escalation {

namespace {

constexpr XXH64_hash_t seed = 0x656e64757265ull;  // "endure"

void add_feature(std::vector<float>& v, std::string_view feature, float weight) {
  auto h = XXH64(feature.data(), feature.size(), seed);
  auto bucket = static_cast<std::size_t>(h % v.size());
  v[bucket] += (h >> 63) ? -weight : weight;
}

} // namespace

bool normalize(std::vector<float>& v) {
  double sum = 0;
  for (float x : v)
    sum += static_cast<double>(x) * x;
  if (!(sum > 0) || !std::isfinite(sum))
    return false;
  auto scale = static_cast<float>(1 / std::sqrt(sum));
  for (float& x : v)
    x *= scale;
  return true;
}

std::vector<float> hashed_ngram_embedding(std::string_view text, std::size_t dim) {
  std::vector<float> v(dim == 0 ? 1 : dim, 0.0f);
  auto words = detail::lower_words(text);
  std::string feature;
  for (std::size_t i = 0; i < words.size(); ++i) {
    add_feature(v, "w:" + words[i], 1.0f);
    if (i + 1 < words.size())
      add_feature(v, "b:" + words[i] + ' ' + words[i + 1], 0.7f);
    auto padded = '^' + words[i] + '$';
    for (std::size_t j = 0; j + 3 <= padded.size(); ++j)
      add_feature(v, "t:" + padded.substr(j, 3), 0.3f);
  }
  normalize(v);
  return v;
}

} // namespace endure::escalation
