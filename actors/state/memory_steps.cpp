// The memory store's workflow steps (memory_steps.hpp). Step bodies run on
// activity threads and call the store directly (it is thread-safe).
#include "endure/actors/state/memory_steps.hpp"

#include <msgpack.hpp>

#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/detail/model_embedding.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/state/detail/step_failure.hpp"
#include "endure/actors/state/memory_store.hpp"
#include "endure/actors/workflow_errors.hpp"

namespace endure::state {

namespace {

/// A recall's journaled result: the time it took and its hits.
struct journaled_hit {
  std::string key;
  std::string text;
  double score = 0;
  std::string run_id;
  std::string session;
  std::uint64_t step = 0;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  MSGPACK_DEFINE(key, text, score, run_id, session, step, created_ms, expires_ms)
};
struct journaled_recall {
  std::int64_t at_ms = 0;
  std::vector<journaled_hit> hits;
  MSGPACK_DEFINE(at_ms, hits)
};

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// The store, or a fatal failure: asking again cannot make one appear.
memory_store& store_of(::endure::detail::step_services* services, const std::string& where) {
  auto* memory = services ? services->memory() : nullptr;
  if (!memory)
    throw fatal_error(where + ": no memory store in this runtime (set runtime_options::memory)");
  return *memory;
}

using detail::value_or_throw;

std::vector<float> embedding_of(const memory_store& m, const std::string& text,
                                std::vector<float> given) {
  return given.empty() ? escalation::hashed_ngram_embedding(text, m.options().dim)
                       : std::move(given);
}

std::string where_of(context& ctx, const std::string& step_name) {
  return "run " + ctx.run_id() + ", step '" + step_name + "'";
}

/// The model's embedding of `text` in its own journaled step, or none (the
/// step body embeds with the built-in embedder).
task<std::vector<float>> model_vector(context& ctx, std::string step_name, std::string text,
                                      embedding_source source) {
  if (source != embedding_source::model)
    co_return std::vector<float>{};
  auto* services = agent::detail::context_access::services(ctx);
  auto name = step_name + "/embedding";
  auto step = ctx.step(name, ::endure::detail::model_embedding(services, where_of(ctx, name)),
                       std::move(text));
  co_return co_await std::move(step);
}

} // namespace

task<std::int64_t> remember(context& ctx, std::string ns, std::string key, std::string text,
                            remember_options options) {
  auto name = "remember:" + ns;
  auto embedding = model_vector(ctx, name, text, options.embeddings);
  auto vector = co_await std::move(embedding);
  auto* services = agent::detail::context_access::services(ctx);
  auto body = [services, where = where_of(ctx, name)](
                const step_info& info, const std::string& ns, const std::string& key,
                const std::string& text, std::int64_t ttl_ms, const std::string& session,
                const std::vector<float>& given) {
    auto& memory = store_of(services, where);
    memory_entry e{ns, key, text, embedding_of(memory, text, given),
                   {info.run_id, session, info.step}, now_ms(), 0};
    e.expires_ms = ttl_ms > 0 ? e.created_ms + ttl_ms : 0;
    value_or_throw(memory.put(e), where);
    return e.created_ms;
  };
  auto step = ctx.step(name, body, std::move(ns), std::move(key), std::move(text),
                       static_cast<std::int64_t>(options.ttl.count()),
                       std::move(options.session), std::move(vector));
  co_return co_await std::move(step);
}

task<std::vector<memory_hit>> recall(context& ctx, std::string ns, std::string query,
                                     std::size_t k, embedding_source embeddings) {
  auto name = "recall:" + ns;
  auto embedding = model_vector(ctx, name, query, embeddings);
  auto vector = co_await std::move(embedding);
  auto* services = agent::detail::context_access::services(ctx);
  auto body = [services, where = where_of(ctx, name)](
                const step_info&, const std::string& ns, const std::string& query,
                std::uint64_t k, const std::vector<float>& given) {
    auto& memory = store_of(services, where);
    journaled_recall out;
    out.at_ms = now_ms();
    auto hits = value_or_throw(
      memory.query(ns, embedding_of(memory, query, given), static_cast<std::size_t>(k), out.at_ms),
      where);
    for (auto& h : hits)
      out.hits.push_back({std::move(h.key), std::move(h.text), h.score, std::move(h.from.run_id),
                          std::move(h.from.session), h.from.step, h.created_ms, h.expires_ms});
    return out;
  };
  auto step = ctx.step(name, body, std::move(ns), std::move(query),
                       static_cast<std::uint64_t>(k), std::move(vector));
  auto journaled = co_await std::move(step);
  std::vector<memory_hit> hits;
  for (auto& h : journaled.hits)
    hits.push_back({std::move(h.key), std::move(h.text), h.score,
                    {std::move(h.run_id), std::move(h.session), h.step}, h.created_ms,
                    h.expires_ms});
  co_return hits;
}

task<bool> forget(context& ctx, std::string ns, std::string key) {
  auto name = "forget:" + ns;
  auto* services = agent::detail::context_access::services(ctx);
  auto body = [services, where = where_of(ctx, name)](const step_info&, const std::string& ns,
                                                     const std::string& key) {
    return value_or_throw(store_of(services, where).erase(ns, key), where);
  };
  auto step = ctx.step(name, body, std::move(ns), std::move(key));
  co_return co_await std::move(step);
}

} // namespace endure::state
