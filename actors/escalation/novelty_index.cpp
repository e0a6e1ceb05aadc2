// Per task type hnswlib graphs behind novelty_index.hpp.
#include "endure/actors/escalation/novelty_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <map>
#include <unistd.h>

#include <hnswlib/hnswlib.h>
#include <xxhash.h>

namespace endure::escalation {

namespace {

constexpr std::size_t initial_capacity = 64;  ///< per type; doubles as it fills

std::string hex(std::uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

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

bool fsync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

} // namespace

struct novelty_index::impl {
  novelty_options opts;
  hnswlib::InnerProductSpace space;
  std::map<std::string, std::unique_ptr<hnswlib::HierarchicalNSW<float>>, std::less<>> graphs;
  std::uint64_t max_id = 0;  ///< the last id added: ids only increase

  explicit impl(novelty_options o) : opts(o), space(o.dim) {}

  hnswlib::HierarchicalNSW<float>& graph_for(std::string_view type) {
    auto it = graphs.find(type);
    if (it == graphs.end()) {
      auto g = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        &space, initial_capacity, opts.graph_degree, opts.build_breadth, /*seed*/ 100);
      g->setEf(std::max(opts.search_breadth, opts.neighbours));
      it = graphs.emplace(std::string{type}, std::move(g)).first;
    }
    return *it->second;
  }

  /// invalid_argument for a vector of the wrong width or with a value
  /// that is not a finite number (NaN would poison every distance).
  expected<void> check(std::span<const float> v) const {
    if (v.size() != opts.dim)
      return wrong_width(v.size());
    for (float x : v)
      if (!std::isfinite(x))
        return make_error(errc::invalid_argument,
                          "novelty index: a vector with a value that is not a finite number "
                          "(the embedder or embeddings endpoint returned garbage)");
    return {};
  }

  error wrong_width(std::size_t got) const {
    return make_error(errc::invalid_argument,
                      "novelty index: a vector of " + std::to_string(got) +
                        " numbers, the index holds " + std::to_string(opts.dim) +
                        " (the embedder's width changed? start a new index)");
  }
};

novelty_index::novelty_index(novelty_options options)
  : impl_(std::make_unique<impl>(options)) {}
novelty_index::~novelty_index() = default;
novelty_index::novelty_index(novelty_index&&) noexcept = default;
novelty_index& novelty_index::operator=(novelty_index&&) noexcept = default;

const novelty_options& novelty_index::options() const noexcept { return impl_->opts; }
std::size_t novelty_index::size() const noexcept {
  std::size_t n = 0;
  for (auto& [type, g] : impl_->graphs)
    n += g->cur_element_count;
  return n;
}
std::uint64_t novelty_index::max_id() const noexcept { return impl_->max_id; }

expected<double> novelty_index::novelty(std::string_view task_type,
                                        std::span<const float> unit) const {
  if (auto ok = impl_->check(unit); !ok)
    return ok.error();
  auto it = impl_->graphs.find(task_type);
  if (it == impl_->graphs.end() || it->second->cur_element_count == 0)
    return 1.0;
  if (std::all_of(unit.begin(), unit.end(), [](float x) { return x == 0; }))
    return 1.0;
  auto k = std::min<std::size_t>(impl_->opts.neighbours, it->second->cur_element_count);
  auto found = it->second->searchKnn(unit.data(), k);
  if (found.empty())
    return 1.0;
  double sum = 0;
  std::size_t n = found.size();
  for (; !found.empty(); found.pop())
    sum += found.top().first;  // hnswlib's inner-product distance: 1 - dot
  return std::clamp(sum / static_cast<double>(n), 0.0, 1.0);
}

expected<void> novelty_index::add(std::string_view task_type, std::span<const float> unit,
                                  std::uint64_t id) {
  if (auto ok = impl_->check(unit); !ok)
    return ok;
  if (id <= impl_->max_id)  // hnswlib would silently replace a repeated id
    return make_error(errc::already_exists,
                      "novelty index: input id " + std::to_string(id) + " is not above the " +
                        "last one stored (" + std::to_string(impl_->max_id) + ")");
  try {
    auto& g = impl_->graph_for(task_type);
    if (g.cur_element_count >= g.max_elements_)
      g.resizeIndex(g.max_elements_ * 2);
    g.addPoint(unit.data(), static_cast<hnswlib::labeltype>(id));
  } catch (const std::exception& e) {
    return make_error(errc::storage_error,
                      std::string{"novelty index: cannot add an input: "} + e.what());
  }
  impl_->max_id = id;
  return {};
}

expected<std::vector<saved_graph>> novelty_index::save(const std::filesystem::path& dir,
                                                       std::uint64_t checkpoint) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, "novelty index: cannot create " + dir.string() + ": " +
                                        ec.message());
  std::vector<saved_graph> out;
  for (auto& [type, g] : impl_->graphs) {
    auto name = "novelty-" + std::to_string(checkpoint) + "-" +
                hex(XXH3_64bits(type.data(), type.size())) + ".hnsw";
    auto tmp = dir / (name + ".tmp");
    auto fail = [&](std::string what) {
      std::filesystem::remove(tmp, ec);
      return make_error(errc::io_error, "novelty index: " + what);
    };
    try {
      g->saveIndex(tmp.string());
    } catch (const std::exception& e) {
      return fail("cannot write " + tmp.string() + ": " + e.what());
    }
    auto hash = file_hash(tmp);
    if (!hash || !fsync_path(tmp, O_RDONLY))
      return fail("cannot write " + tmp.string());
    std::filesystem::rename(tmp, dir / name, ec);
    if (ec)
      return fail("cannot rename " + tmp.string() + ": " + ec.message());
    out.push_back({type, name, g->cur_element_count, *hash, impl_->opts.dim});
  }
  if (!fsync_path(dir, O_RDONLY | O_DIRECTORY))
    return make_error(errc::io_error, "novelty index: cannot fsync " + dir.string());
  return out;
}

expected<void> novelty_index::load(const std::filesystem::path& dir,
                                   std::span<const saved_graph> saved) {
  decltype(impl_->graphs) graphs;
  std::uint64_t max_id = 0;
  for (auto& s : saved) {
    auto path = dir / s.file;
    auto hash = file_hash(path);
    if (!hash || *hash != s.hash)
      return make_error(errc::corrupt_record,
                        "novelty index: " + path.string() +
                          (hash ? " does not match its checkpoint" : " cannot be read") +
                          " (the index is rebuilt from the stored vectors)");
    if (s.dim != impl_->opts.dim)
      return make_error(errc::invalid_argument,
                        "novelty index: " + path.string() + " holds vectors of " +
                          std::to_string(s.dim) + " numbers, the index " +
                          std::to_string(impl_->opts.dim) + " (rebuild from the stored vectors)");
    try {
      auto g = std::make_unique<hnswlib::HierarchicalNSW<float>>(&impl_->space, path.string());
      if (g->cur_element_count != s.vectors ||
          g->size_data_per_element_ !=
            g->size_links_level0_ + impl_->opts.dim * sizeof(float) + sizeof(hnswlib::labeltype))
        return make_error(errc::corrupt_record, "novelty index: " + path.string() +
                                                  " does not hold what its checkpoint says");
      for (std::size_t i = 0; i < g->cur_element_count; ++i)
        max_id = std::max(max_id, static_cast<std::uint64_t>(
                                    g->getExternalLabel(static_cast<hnswlib::tableint>(i))));
      g->setEf(std::max(impl_->opts.search_breadth, impl_->opts.neighbours));
      graphs.emplace(s.task_type, std::move(g));
    } catch (const std::exception& e) {
      return make_error(errc::corrupt_record,
                        "novelty index: " + path.string() + ": " + e.what());
    }
  }
  impl_->graphs = std::move(graphs);
  impl_->max_id = max_id;
  return {};
}

} // namespace endure::escalation
