// Per task type cosine graphs (cosine_graph.hpp) behind novelty_index.hpp.
#include "endure/actors/escalation/novelty_index.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include <xxhash.h>

#include "endure/actors/escalation/cosine_graph.hpp"

namespace endure::escalation {

namespace {

std::string hex(std::uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

constexpr const char* who = "novelty index";

} // namespace

struct novelty_index::impl {
  novelty_options opts;
  std::map<std::string, cosine_graph, std::less<>> graphs;
  std::uint64_t max_id = 0;  ///< the last id added: ids only increase

  explicit impl(novelty_options o) : opts(o) {}

  graph_options graph() const {
    return {opts.dim, opts.graph_degree, opts.build_breadth,
            std::max(opts.search_breadth, opts.neighbours)};
  }

  cosine_graph& graph_for(std::string_view type) {
    auto it = graphs.find(type);
    if (it == graphs.end())
      it = graphs.emplace(std::string{type}, cosine_graph(graph())).first;
    return it->second;
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
    n += g.size();
  return n;
}
std::uint64_t novelty_index::max_id() const noexcept { return impl_->max_id; }

expected<double> novelty_index::novelty(std::string_view task_type,
                                        std::span<const float> unit) const {
  if (auto ok = check_vector(unit, impl_->opts.dim, who); !ok)
    return ok.error();
  auto it = impl_->graphs.find(task_type);
  if (it == impl_->graphs.end() || it->second.size() == 0)
    return 1.0;
  if (std::all_of(unit.begin(), unit.end(), [](float x) { return x == 0; }))
    return 1.0;
  auto found = it->second.nearest(unit, impl_->opts.neighbours);
  if (found.empty())
    return 1.0;
  double sum = 0;
  for (auto& hit : found)
    sum += hit.distance;
  return std::clamp(sum / static_cast<double>(found.size()), 0.0, 1.0);
}

expected<void> novelty_index::add(std::string_view task_type, std::span<const float> unit,
                                  std::uint64_t id) {
  if (auto ok = check_vector(unit, impl_->opts.dim, who); !ok)
    return ok;
  if (id <= impl_->max_id)  // hnswlib would silently replace a repeated id
    return make_error(errc::already_exists,
                      "novelty index: input id " + std::to_string(id) + " is not above the " +
                        "last one stored (" + std::to_string(impl_->max_id) + ")");
  if (auto ok = impl_->graph_for(task_type).add(unit, id); !ok)
    return make_error(ok.error().code, "novelty index: " + ok.error().message);
  impl_->max_id = id;
  return {};
}

expected<std::vector<saved_graph>> novelty_index::save(const std::filesystem::path& dir,
                                                       std::uint64_t checkpoint) const {
  std::vector<graph_file> files;
  for (auto& [type, g] : impl_->graphs)
    files.push_back({"novelty-" + std::to_string(checkpoint) + "-" +
                       hex(XXH3_64bits(type.data(), type.size())) + ".hnsw",
                     &g});
  auto hashes = save_graphs(dir, files, who);
  if (!hashes)
    return std::move(hashes).error();
  std::vector<saved_graph> out;
  std::size_t i = 0;
  for (auto& [type, g] : impl_->graphs) {
    out.push_back({type, files[i].name, g.size(), (*hashes)[i], impl_->opts.dim});
    ++i;
  }
  return out;
}

expected<void> novelty_index::load(const std::filesystem::path& dir,
                                   std::span<const saved_graph> saved) {
  decltype(impl_->graphs) graphs;
  std::uint64_t max_id = 0;
  for (auto& s : saved) {
    auto path = dir / s.file;
    if (s.dim != impl_->opts.dim)
      return make_error(errc::invalid_argument,
                        "novelty index: " + path.string() + " holds vectors of " +
                          std::to_string(s.dim) + " numbers, the index " +
                          std::to_string(impl_->opts.dim) + " (rebuild from the stored vectors)");
    auto g = cosine_graph::load(path, impl_->graph(), s.hash, s.vectors);
    if (!g)
      return make_error(g.error().code, "novelty index: " + g.error().message);
    max_id = std::max(max_id, g->max_label());
    graphs.emplace(s.task_type, std::move(*g));
  }
  impl_->graphs = std::move(graphs);
  impl_->max_id = max_id;
  return {};
}

} // namespace endure::escalation
