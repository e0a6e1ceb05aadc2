// The memory store from a workflow, durably:
//
//   auto remembering = state::remember(ctx, "agent-7/facts", "deploy-day",
//                                      "deploys happen on Tuesdays", keep);
//   co_await std::move(remembering);
//   auto recalling = state::recall(ctx, "agent-7/facts", "when do we deploy?", 3);
//   auto hits = co_await std::move(recalling);
//   auto forgetting = state::forget(ctx, "agent-7/facts", "deploy-day");
//   co_await std::move(forgetting);
//
// (each call bound to a named task before co_await: README "g++ 12 pitfall")
//
// Each is a journaled step ("remember:NS", "recall:NS", "forget:NS") run
// against the runtime's store (runtime_options::memory): its result is
// journaled before the workflow goes on, and a replay reads it back
// without touching the store. recall takes the time that decides expiry
// inside the step and journals it with the hits, so a run replayed after a
// restart sees the same hits however the store changed since. A write
// retried after a crash writes the same entry again (put replaces).
//
// Embeddings: the built-in hashed n-grams (actors/escalation/embedder.hpp)
// at the store's dim, or the runtime's model (a journaled step
// "NAME:NS/embedding" first, as escalation::assess does); the model's width
// must be the store's. Provenance: the run, the step's position and
// `session`. Failures: no memory store in the runtime, or input the store
// refuses (a bad namespace or key, a text without a letter or digit under
// the built-in embedder, k = 0), fail the step (fatal) with the store's
// message; a journal failure is retried.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "endure/actors/context.hpp"
#include "endure/actors/escalation/escalate.hpp"
#include "endure/actors/state/memory_types.hpp"
#include "endure/actors/task.hpp"

namespace endure::state {

using escalation::embedding_source;

struct remember_options {
  /// How long the entry lives from the write; 0 = for ever. Default: 0.
  std::chrono::milliseconds ttl{0};
  /// provenance::session of the entry. Default: empty.
  std::string session;
  /// Default: the built-in embedder.
  embedding_source embeddings = embedding_source::built_in;
};

/// Stores `text` under (ns, key), replacing what was there; returns the
/// entry's created_ms (journaled).
task<std::int64_t> remember(context& ctx, std::string ns, std::string key, std::string text,
                            remember_options options = {});

/// The k entries of `ns` most similar to `query`, live at the step's time.
task<std::vector<memory_hit>> recall(context& ctx, std::string ns, std::string query,
                                     std::size_t k,
                                     embedding_source embeddings = embedding_source::built_in);

/// Erases (ns, key); returns whether there was such an entry.
task<bool> forget(context& ctx, std::string ns, std::string key);

} // namespace endure::state
