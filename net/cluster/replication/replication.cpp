// replication.hpp: wires the source and the keeper of one node.
#include "endure/net/cluster/replication/replication.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <filesystem>
#include <mutex>

#include "endure/net/cluster/replication/journal_source.hpp"
#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/net/cluster/replication/replica_keeper.hpp"

namespace endure::cluster {

struct replication::fence_note {
  std::mutex mutex;
  std::string why;
};

std::unique_ptr<replication> replication::start(caf::actor_system& sys,
                                                const cluster_config& cfg,
                                                const journal_options& node_journal) {
  if (!cfg.replication.standby)
    return nullptr;
  std::unique_ptr<replication> r{new replication};
  r->fenced_ = std::make_shared<fence_note>();
  auto standby = cfg.standby_of(cfg.self);
  if (!standby.empty() && standby != cfg.self) {
    journal_source_options o;
    o.self = cfg.self;
    o.standby = standby;
    o.wait = cfg.replication.wait;
    o.max_buffer_bytes = cfg.replication.buffer;
    o.copy_dir = (std::filesystem::path{node_journal.data_dir} / "replication-copy").string();
    o.takeover = cfg.replication.takeover.count() > 0;
    o.on_fenced = [note = r->fenced_](const std::string& why) {
      std::lock_guard<std::mutex> lock{note->mutex};
      note->why = why;
    };
    auto source = spawn_journal_source(sys, std::move(o));
    r->source_ = std::move(source.actor);
    r->sink_ = std::move(source.sink);
  }
  replica_keeper_options k;
  k.self = cfg.self;
  for (auto& n : cfg.nodes) {
    k.standby_of[n.name] = cfg.standby_of(n.name);
    if (n.name != cfg.self && cfg.standby_of(n.name) == cfg.self)
      k.primaries.push_back(n.name);
  }
  k.dir = (std::filesystem::path{node_journal.data_dir} / "replicas").string();
  k.mode = node_journal.mode;
  r->keeper_ = spawn_replica_keeper(sys, std::move(k));
  return r;
}

replication::~replication() { stop(); }

void replication::attach(const journal& store) const {
  if (source_)
    attach_journal(source_, store);
  if (keeper_)  // the runtime is open: this process holds the data directory's lock
    caf::anon_send(keeper_, replication_detail::restore_atom::value);
}

void replication::stop() {
  if (!source_ && !keeper_)
    return;
  auto& sys = (source_ ? source_ : keeper_).home_system();
  caf::scoped_actor self{sys};
  for (auto* a : {&source_, &keeper_})
    if (*a) {
      self->send_exit(*a, caf::exit_reason::user_shutdown);
      self->wait_for(*a);
      *a = nullptr;
    }
}

void replication::run_replicas_with(open_runtime_fn open) const {
  if (keeper_)
    give_runtime_opener(keeper_, std::move(open));
}

std::string replication::fenced() const {
  std::lock_guard<std::mutex> lock{fenced_->mutex};
  return fenced_->why;
}

std::string replica_dir(const std::string& data_dir, const std::string& primary) {
  return (std::filesystem::path{data_dir} / "replicas" / primary).string();
}

} // namespace endure::cluster
