// One hnswlib graph behind cosine_graph.hpp.
#include "endure/actors/escalation/cosine_graph.hpp"

#include <algorithm>
#include <cmath>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <unistd.h>

#include <hnswlib/hnswlib.h>
#include <xxhash.h>

#include "endure/persistence/detail/sync_directory.hpp"

namespace endure::escalation {

namespace {

constexpr std::size_t initial_capacity = 64;  ///< doubles as it fills

/// XXH3-64 of a file's bytes; nullopt when it cannot be read.
std::optional<std::uint64_t> file_hash(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    XXH3_64bits_update(st, buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  bool ok = in.eof();
  auto h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  if (!ok)
    return std::nullopt;
  return h;
}

bool fsync_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

} // namespace

expected<void> check_vector(std::span<const float> v, std::size_t dim, const std::string& who) {
  if (v.size() != dim)
    return make_error(errc::invalid_argument,
                      who + ": a vector of " + std::to_string(v.size()) + " numbers, the index " +
                        "holds " + std::to_string(dim) +
                        " (the embedder's width changed? start a new index)");
  for (float x : v)
    if (!std::isfinite(x))
      return make_error(errc::invalid_argument,
                        who + ": a vector with a value that is not a finite number "
                              "(the embedder or embeddings endpoint returned garbage)");
  return {};
}

expected<std::vector<std::uint64_t>> save_graphs(const std::filesystem::path& dir,
                                                 std::span<const graph_file> graphs,
                                                 const std::string& who) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, who + ": cannot create " + dir.string() + ": " +
                                        ec.message());
  std::vector<std::uint64_t> hashes;
  for (auto& g : graphs) {
    auto hash = g.graph->save(dir / g.name);
    if (!hash)
      return make_error(hash.error().code, who + ": " + hash.error().message);
    hashes.push_back(*hash);
  }
  if (auto synced = sync_directory(dir); !synced)
    return make_error(errc::io_error, who + ": " + synced.error().message);
  return hashes;
}

void remove_graph_files(const std::filesystem::path& dir, std::string_view prefix,
                        std::span<const std::string> keep) {
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename().string();
    bool graph = name.starts_with(prefix) &&
                 (name.ends_with(".hnsw") || name.ends_with(".hnsw.tmp"));
    if (graph && std::find(keep.begin(), keep.end(), name) == keep.end())
      stale.push_back(it->path());
  }
  for (auto& path : stale)
    std::filesystem::remove(path, ec);
}

struct cosine_graph::impl {
  graph_options opts;
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> g;
  std::uint64_t max_label = 0;

  explicit impl(graph_options o) : opts(o), space(o.dim) {}
};

cosine_graph::cosine_graph(graph_options options) : impl_(std::make_unique<impl>(options)) {
  impl_->g = std::make_unique<hnswlib::HierarchicalNSW<float>>(
    &impl_->space, initial_capacity, options.graph_degree, options.build_breadth, /*seed*/ 100);
  impl_->g->setEf(options.search_breadth);
}
cosine_graph::~cosine_graph() = default;
cosine_graph::cosine_graph(cosine_graph&&) noexcept = default;
cosine_graph& cosine_graph::operator=(cosine_graph&&) noexcept = default;

const graph_options& cosine_graph::options() const noexcept { return impl_->opts; }

expected<cosine_graph> cosine_graph::load(const std::filesystem::path& file,
                                          graph_options options, std::uint64_t hash,
                                          std::uint64_t count) {
  auto actual = file_hash(file);
  if (!actual || *actual != hash)
    return make_error(errc::corrupt_record,
                      file.string() + (actual ? " does not match its checkpoint" : " cannot be read") +
                        " (the index is rebuilt from the stored vectors)");
  cosine_graph out(options);
  auto& p = *out.impl_;
  try {
    p.g = std::make_unique<hnswlib::HierarchicalNSW<float>>(&p.space, file.string());
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record, file.string() + ": " + e.what());
  }
  auto width = (p.g->size_data_per_element_ - p.g->size_links_level0_ - sizeof(hnswlib::labeltype))
               / sizeof(float);
  if (width != options.dim)
    return make_error(errc::invalid_argument,
                      file.string() + " holds vectors of " + std::to_string(width) +
                        " numbers, the index " + std::to_string(options.dim) +
                        " (rebuild from the stored vectors)");
  if (p.g->cur_element_count != count)
    return make_error(errc::corrupt_record,
                      file.string() + " does not hold what its checkpoint says");
  // hnswlib 0.6.2's loading constructor never zeroes num_deleted_ before
  // counting the removed elements into it: count them here.
  p.g->num_deleted_ = 0;
  for (std::size_t i = 0; i < p.g->cur_element_count; ++i) {
    auto id = static_cast<hnswlib::tableint>(i);
    p.max_label = std::max(p.max_label, static_cast<std::uint64_t>(p.g->getExternalLabel(id)));
    p.g->num_deleted_ += p.g->isMarkedDeleted(id) ? 1 : 0;
  }
  p.g->setEf(options.search_breadth);
  return out;
}

expected<void> cosine_graph::add(std::span<const float> unit, std::uint64_t label) {
  auto& g = *impl_->g;
  try {
    if (g.cur_element_count >= g.max_elements_)
      g.resizeIndex(g.max_elements_ * 2);
    g.addPoint(unit.data(), static_cast<hnswlib::labeltype>(label));
  } catch (const std::exception& e) {
    return make_error(errc::storage_error, std::string{"cannot add a vector: "} + e.what());
  }
  impl_->max_label = std::max(impl_->max_label, label);
  return {};
}

void cosine_graph::remove(std::uint64_t label) {
  if (contains(label))
    impl_->g->markDelete(static_cast<hnswlib::labeltype>(label));
}

bool cosine_graph::contains(std::uint64_t label) const {
  auto& g = *impl_->g;
  auto it = g.label_lookup_.find(static_cast<hnswlib::labeltype>(label));
  return it != g.label_lookup_.end() && !g.isMarkedDeleted(it->second);
}

std::vector<graph_hit> cosine_graph::nearest(std::span<const float> unit, std::size_t k) const {
  std::vector<graph_hit> out;
  auto& g = *impl_->g;
  if (k == 0 || g.cur_element_count == 0)
    return out;
  auto found = g.searchKnn(unit.data(), k);
  out.resize(found.size());
  // The queue pops the farthest first.
  for (auto i = out.size(); i-- > 0; found.pop())
    out[i] = {found.top().first, static_cast<std::uint64_t>(found.top().second)};
  return out;
}

void cosine_graph::for_each(const std::function<void(std::uint64_t, const float*)>& each) const {
  auto& g = *impl_->g;
  for (std::size_t i = 0; i < g.cur_element_count; ++i) {
    auto id = static_cast<hnswlib::tableint>(i);
    if (!g.isMarkedDeleted(id))
      each(g.getExternalLabel(id), reinterpret_cast<const float*>(g.getDataByInternalId(id)));
  }
}

std::size_t cosine_graph::size() const noexcept { return impl_->g->cur_element_count; }
std::size_t cosine_graph::removed() const noexcept { return impl_->g->num_deleted_; }
std::uint64_t cosine_graph::max_label() const noexcept { return impl_->max_label; }

expected<std::uint64_t> cosine_graph::save(const std::filesystem::path& file) const {
  auto tmp = file;
  tmp += ".tmp";
  std::error_code ec;
  auto fail = [&](std::string what) {
    std::filesystem::remove(tmp, ec);
    return make_error(errc::io_error, what);
  };
  try {
    impl_->g->saveIndex(tmp.string());
  } catch (const std::exception& e) {
    return fail("cannot write " + tmp.string() + ": " + e.what());
  }
  auto hash = file_hash(tmp);
  if (!hash || !fsync_file(tmp))
    return fail("cannot write " + tmp.string());
  std::filesystem::rename(tmp, file, ec);
  if (ec)
    return fail("cannot rename " + tmp.string() + ": " + ec.message());
  return *hash;
}

} // namespace endure::escalation
