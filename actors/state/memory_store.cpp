// The memory store (memory_store.hpp): rows in the journal, the index in
// memory. Writers hold write_ across commit and index update, so rows and
// index change in the same order; readers hold index_ shared, writers
// exclusive only while they update the index (not while they commit).
#include "endure/actors/state/memory_store.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <shared_mutex>

#include "endure/actors/state/detail/memory_index.hpp"
#include "endure/actors/state/detail/memory_rows.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/persistence/row_scan.hpp"

namespace endure::state {

namespace {

constexpr std::size_t max_key_bytes = 200;
constexpr std::size_t max_k = 10'000;
/// Rows per commit in purge_expired: one transaction stays small.
constexpr std::size_t purge_batch = 10'000;

/// "memory entry ns/key" for messages (bytes that are not printable as '?').
std::string entry_name(std::string_view ns, std::string_view key) {
  std::string out = "memory entry '";
  out += ns;
  out += "'/'";
  for (char c : key.substr(0, 80))
    out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out + (key.size() > 80 ? "...'" : "'");
}

error bad(std::string what) { return make_error(errc::invalid_argument, std::move(what)); }

expected<void> check_names(std::string_view ns, std::string_view key) {
  if (!valid_namespace(ns))
    return bad(entry_name(ns, key) + ": the namespace must be 1 to 100 bytes of '/'-separated "
                                     "segments of A-Z a-z 0-9 . _ -");
  if (key.empty() || key.size() > max_key_bytes)
    return bad(entry_name(ns, key) + ": the key must be 1 to 200 bytes, not " +
               std::to_string(key.size()));
  return {};
}

/// Width, finite values, unit length (cosine is a dot product only then).
expected<void> check_unit(std::span<const float> v, std::size_t dim, const std::string& who) {
  if (auto ok = escalation::check_vector(v, dim, who); !ok)
    return ok;
  double norm = 0;
  for (float x : v)
    norm += static_cast<double>(x) * x;
  if (std::abs(std::sqrt(norm) - 1.0) > 1e-3)
    return bad(who + ": the vector has length " + std::to_string(std::sqrt(norm)) +
               ", it must have length 1 (normalize it; an all-zero vector, the embedding of "
               "a text without a letter or digit, cannot be compared)");
  return {};
}

expected<void> check_entry(const memory_entry& e, std::size_t dim) {
  if (auto ok = check_names(e.ns, e.key); !ok)
    return ok;
  if (auto ok = check_unit(e.embedding, dim, entry_name(e.ns, e.key)); !ok)
    return ok;
  if (e.expires_ms < 0)
    return bad(entry_name(e.ns, e.key) + ": expires_ms must be 0 (never) or a Unix time in ms");
  return {};
}

double dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

memory_hit hit_of(memory_entry&& e, double score) {
  return {std::move(e.key), std::move(e.text), score, std::move(e.from), e.created_ms,
          e.expires_ms};
}

} // namespace

struct memory_store::impl {
  journal* store;
  memory_options opts;
  std::filesystem::path dir;
  memory_open_report report;
  detail::memory_index index;
  mutable std::shared_mutex index_mutex;
  std::mutex write_mutex;
  std::uint64_t next_id = 1;
  std::uint64_t checkpoint_number = 0;
  std::uint64_t writes_since_checkpoint = 0;

  impl(journal& s, memory_options o) : store(&s), opts(std::move(o)), index(opts) {
    dir = opts.graph_dir.empty() ? std::filesystem::path{s.options().data_dir} / "memory"
                                 : opts.graph_dir;
  }

  expected<void> restore();
  void load_checkpoint();
  /// Commits `batch`, then applies `apply` to the index; counts `writes`
  /// and checkpoints when they are due. Holds write_mutex.
  template <class Apply>
  expected<void> write(write_batch batch, std::uint64_t writes, Apply apply);
  /// Saves the graphs, commits the checkpoint row, deletes older files.
  /// Holds write_mutex (no writes meanwhile); queries go on.
  expected<void> save_checkpoint();
};

void memory_store::impl::load_checkpoint() {
  auto row = store->row(side_table::memory, detail::memory_checkpoint_key);
  if (row && !*row)
    return;
  auto c = row ? detail::parse_memory_checkpoint(**row)
               : expected<detail::memory_checkpoint>{row.error()};
  expected<void> loaded = c ? expected<void>{} : expected<void>{c.error()};
  if (c && c->dim != opts.dim)
    loaded = bad("memory store: the checkpoint holds vectors of " + std::to_string(c->dim) +
                 " numbers, the store " + std::to_string(opts.dim));
  if (loaded)
    loaded = index.load(dir, c->graphs);
  if (loaded) {
    report.checkpoint = checkpoint_number = c->number;
    return;
  }
  if (c)
    checkpoint_number = c->number;  // file names of the next one stay new
  report.checkpoint_problem = loaded.error().to_string();
  log::warn("memory store: the graph checkpoint in " + dir.string() +
            " is not usable, rebuilding the graphs from the rows: " + report.checkpoint_problem);
  index = detail::memory_index(opts);
}

expected<void> memory_store::impl::restore() {
  // Rows queued before this open (by a store closed a moment ago) land
  // first: read without them, an id would be given twice.
  if (!store->options().read_only)
    if (auto ok = store->commit(write_batch{}); !ok)
      return ok;
  load_checkpoint();
  std::uint64_t max_id = index.max_id();
  // Every error below names its row.
  auto damaged = [&](const std::string&, const error& why) {
    ++report.damaged_rows;
    log::error("memory store: skipped a damaged row (" + why.to_string() + ")");
  };
  auto each = [&](const stored_row& row) {
    auto names = detail::split_memory_row_key(row.key);
    auto view = names ? detail::view_memory_entry(row.key, row.rec)
                      : expected<detail::memory_row_view>{names.error()};
    if (!view)
      return damaged(row.key, view.error());
    auto& [ns, key] = *names;
    if (auto ok = check_names(ns, key); !ok)
      return damaged(row.key, ok.error());
    // A vector the checkpoint's graph holds was checked when it was put;
    // only one inserted now is read and checked.
    bool held = index.graph_holds(ns, view->id);
    std::vector<float> unit;
    if (!held) {
      unit = view->floats();
      if (auto ok = check_unit(unit, opts.dim, entry_name(ns, key)); !ok)
        return damaged(row.key, ok.error());
    }
    if (auto put = index.put(ns, key, unit, view->id, view->expires_ms); !put)
      return damaged(row.key, put.error());
    report.inserted += held ? 0 : 1;
    max_id = std::max(max_id, view->id);
  };
  if (auto ok = scan_rows(*store, side_table::memory, "e/", "", each, damaged); !ok)
    return ok;
  index.drop_unclaimed();
  report.entries = index.size();
  next_id = max_id + 1;
  return {};
}

template <class Apply>
expected<void> memory_store::impl::write(write_batch batch, std::uint64_t writes, Apply apply) {
  if (auto ok = store->commit(std::move(batch)); !ok)
    return ok;
  {
    std::unique_lock lock{index_mutex};
    apply();
  }
  writes_since_checkpoint += writes;
  // A checkpoint writes every graph: waiting for a quarter of the store's
  // size in writes keeps their total cost linear in the writes (a fill of
  // 1,000,000 entries saved 12 times, not 50), at the price of a catch-up
  // of up to that many inserts at an open after kill -9.
  auto due = std::max<std::uint64_t>(opts.checkpoint_every, index.size() / 4);
  if (opts.checkpoint_every != 0 && writes_since_checkpoint >= due)
    if (auto saved = save_checkpoint(); !saved)  // the rows are durable: the
      log::error("memory store: graph checkpoint failed: " +  // next open pays
                 saved.error().to_string());
  return {};
}

expected<void> memory_store::impl::save_checkpoint() {
  writes_since_checkpoint = 0;  // after a failure, the next try waits as long
  std::shared_lock lock{index_mutex};
  auto graphs = index.save(dir, checkpoint_number + 1);
  lock.unlock();
  if (!graphs)
    return std::move(graphs).error();
  write_batch b;
  b.put_row(side_table::memory, std::string{detail::memory_checkpoint_key},
            detail::memory_checkpoint_record({checkpoint_number + 1, opts.dim, *graphs}));
  if (auto ok = store->commit(std::move(b)); !ok)
    return ok;
  ++checkpoint_number;
  // The new row is durable: every other graph file (the checkpoints'
  // before, any a crash left) can go.
  std::vector<std::string> keep;
  for (auto& g : *graphs)
    keep.push_back(g.file);
  escalation::remove_graph_files(dir, "memory-", keep);
  return {};
}

memory_store::memory_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
memory_store::~memory_store() = default;

expected<std::unique_ptr<memory_store>> memory_store::open(journal& store,
                                                           memory_options options) {
  if (options.dim == 0)
    return bad("memory_options.dim: must be at least 1");
  register_record_types(store.types());
  auto p = std::make_unique<impl>(store, std::move(options));
  if (auto ok = p->restore(); !ok)
    return std::move(ok).error();
  return std::unique_ptr<memory_store>{new memory_store(std::move(p))};
}

const memory_options& memory_store::options() const noexcept { return impl_->opts; }
const memory_open_report& memory_store::opened() const noexcept { return impl_->report; }

expected<void> memory_store::put(memory_entry e) {
  std::vector<memory_entry> one;
  one.push_back(std::move(e));
  return put_all(std::move(one));
}

expected<void> memory_store::put_all(std::vector<memory_entry> entries) {
  for (auto& e : entries)
    if (auto ok = check_entry(e, impl_->opts.dim); !ok)
      return ok;
  auto& p = *impl_;
  std::lock_guard lock{p.write_mutex};
  write_batch batch;
  auto first = p.next_id;
  for (auto& e : entries)
    batch.put_row(side_table::memory, detail::memory_row_key(e.ns, e.key),
                  detail::memory_entry_record(e, p.next_id++));
  return p.write(std::move(batch), entries.size(), [&] {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      auto& e = entries[i];
      if (auto ok = p.index.put(e.ns, e.key, e.embedding, first + i, e.expires_ms); !ok)
        log::error("memory store: " + entry_name(e.ns, e.key) + " is stored but not indexed "
                   "until the next open: " + ok.error().to_string());
    }
  });
}

expected<std::optional<memory_entry>> memory_store::get(std::string_view ns, std::string_view key,
                                                        std::int64_t now_ms) const {
  using answer = std::optional<memory_entry>;
  if (auto ok = check_names(ns, key); !ok)
    return ok.error();
  auto row_key = detail::memory_row_key(ns, key);
  auto row = impl_->store->row(side_table::memory, row_key);
  if (!row)
    return std::move(row).error();
  if (!*row)
    return answer{};
  auto e = detail::parse_memory_entry(row_key, **row);
  if (!e)
    return std::move(e).error();
  if (e->first.expires_ms != 0 && now_ms >= e->first.expires_ms)
    return answer{};
  return answer{std::move(e->first)};
}

expected<bool> memory_store::erase(std::string_view ns, std::string_view key) {
  if (auto ok = check_names(ns, key); !ok)
    return ok.error();
  auto& p = *impl_;
  std::lock_guard lock{p.write_mutex};
  bool found = false;
  write_batch batch;
  batch.erase_row(side_table::memory, detail::memory_row_key(ns, key));
  auto ok = p.write(std::move(batch), 1, [&] { found = p.index.erase(ns, key); });
  if (!ok)
    return std::move(ok).error();
  return found;
}

expected<std::vector<memory_hit>> memory_store::query(std::string_view ns,
                                                      std::span<const float> query,
                                                      std::size_t k, std::int64_t now_ms) const {
  std::string who = "memory query of '" + std::string{ns} + "'";
  if (!valid_namespace(ns))
    return bad(who + ": the namespace must be 1 to 100 bytes of '/'-separated segments of "
                     "A-Z a-z 0-9 . _ -");
  if (k == 0 || k > max_k)
    return bad(who + ": k must be 1 to " + std::to_string(max_k) + ", not " + std::to_string(k));
  if (auto ok = check_unit(query, impl_->opts.dim, who); !ok)
    return ok.error();
  std::shared_lock lock{impl_->index_mutex};
  auto found = impl_->index.query(ns, query, k, now_ms);
  std::vector<memory_hit> out;
  for (auto& candidate : found) {
    auto key = impl_->index.key_of(candidate.id);
    if (!key)
      continue;
    auto row_key = detail::memory_row_key(ns, *key);
    auto row = impl_->store->row(side_table::memory, row_key);
    auto e = row && *row ? detail::parse_memory_entry(row_key, **row)
                         : expected<std::pair<memory_entry, std::uint64_t>>{
                             row ? make_error(errc::not_found, "erased") : row.error()};
    if (!e) {
      log::error("memory store: " + entry_name(ns, *key) + " left out of a query: " +
                 e.error().to_string());
      continue;
    }
    // A write committed but not yet in the index: the row is newer than
    // the candidate; answer with the row as it is now.
    double score = e->second == candidate.id ? candidate.score : dot(query, e->first.embedding);
    if (e->first.expires_ms == 0 || now_ms < e->first.expires_ms)
      out.push_back(hit_of(std::move(e->first), score));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const memory_hit& a, const memory_hit& b) { return a.score > b.score; });
  return out;
}

expected<std::size_t> memory_store::purge_expired(std::int64_t now_ms) {
  auto& p = *impl_;
  std::lock_guard lock{p.write_mutex};
  std::vector<std::pair<std::string, std::string>> expired;
  {
    std::shared_lock read{p.index_mutex};
    expired = p.index.expired(now_ms);
  }
  for (std::size_t from = 0; from < expired.size(); from += purge_batch) {
    auto to = std::min(expired.size(), from + purge_batch);
    write_batch batch;
    for (auto i = from; i < to; ++i)
      batch.erase_row(side_table::memory, detail::memory_row_key(expired[i].first,
                                                                 expired[i].second));
    auto ok = p.write(std::move(batch), to - from, [&] {
      for (auto i = from; i < to; ++i)
        p.index.erase(expired[i].first, expired[i].second);
    });
    if (!ok)
      return std::move(ok).error();
  }
  return expired.size();
}

expected<bool> memory_store::checkpoint(bool force) {
  auto& p = *impl_;
  std::lock_guard lock{p.write_mutex};
  if (p.writes_since_checkpoint == 0 ||
      (!force && (p.opts.checkpoint_every == 0 ||
                  p.writes_since_checkpoint < p.opts.checkpoint_every)))
    return false;
  if (auto ok = p.save_checkpoint(); !ok)
    return std::move(ok).error();
  return true;
}

std::size_t memory_store::size() const {
  std::shared_lock lock{impl_->index_mutex};
  return impl_->index.size();
}

} // namespace endure::state
