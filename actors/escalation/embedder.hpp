// The built-in offline embedder: hashed n-grams, for the sim and for
// deployments without an embeddings endpoint. Words, word pairs and the
// character trigrams of each word are hashed (XXH64, fixed seed) into
// `dim` signed buckets and the vector is scaled to unit length, so cosine
// similarity is a dot product and texts that share words and word pieces
// land near each other. Deterministic across runs and machines. Pure.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace endure::escalation {

/// Default width: enough to keep unrelated short texts apart, small enough
/// that a million stored inputs fit in half a gigabyte.
inline constexpr std::size_t default_embedding_dim = 128;

/// The unit-length embedding of `text` (all zeros for text without a
/// letter or digit). dim must be > 0.
std::vector<float> hashed_ngram_embedding(std::string_view text,
                                          std::size_t dim = default_embedding_dim);

/// Scales `v` to unit length in place; false (and v unchanged) when it is
/// all zeros or not finite.
bool normalize(std::vector<float>& v);

} // namespace endure::escalation
