// The replicas a serve's node took over (hosted_replicas.hpp).
#include "endure/cli/hosted_replicas.hpp"

#include <caf/actor_system.hpp>

namespace endure::cli {

hosted_replicas::hosted_replicas(caf::actor_system& sys, workflow_registry workflows,
                                 std::function<runtime_options(const std::string&)> options)
  : sys_(sys), workflows_(std::move(workflows)), options_(std::move(options)) {}

hosted_replicas::~hosted_replicas() { close(); }

expected<caf::actor> hosted_replicas::open(const std::string& primary, const std::string& dir) {
  auto stopping = [&] {
    return make_error(errc::shut_down, "the serve is stopping: node " + primary
                                         + "'s replica is not opened");
  };
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (closed_)
      return stopping();
    if (auto it = runtimes_.find(primary); it != runtimes_.end())
      return it->second->handle();
  }
  // Opened outside the lock: recovery takes a while, and add_runs (the
  // cluster's listing, on the router's thread) must not wait for it.
  // Only the replica keeper's thread opens.
  auto rt = runtime::open(sys_, options_(dir), workflows_);
  if (!rt)
    return std::move(rt).error();
  auto handle = (*rt)->handle();
  std::lock_guard<std::mutex> lock{mutex_};
  if (closed_)
    return stopping();  // the new runtime closes here, before the actor system ends
  runtimes_.emplace(primary, std::move(*rt));
  return handle;
}

expected<run_listing> hosted_replicas::add_runs(expected<run_listing> own) const {
  if (!own)
    return own;
  std::lock_guard<std::mutex> lock{mutex_};
  for (auto& [primary, rt] : runtimes_) {
    auto theirs = rt->store().scan_runs();
    if (!theirs)
      return make_error(theirs.error().code, "node " + primary + "'s replica: "
                                               + theirs.error().message);
    own->runs.insert(own->runs.end(), theirs->runs.begin(), theirs->runs.end());
    own->damaged.insert(own->damaged.end(), theirs->damaged.begin(), theirs->damaged.end());
  }
  return own;
}

void hosted_replicas::close() {
  std::map<std::string, std::unique_ptr<runtime>> closing;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    closed_ = true;
    closing.swap(runtimes_);
  }
  closing.clear();  // each runtime stops its runs and closes its journal
}

} // namespace endure::cli
