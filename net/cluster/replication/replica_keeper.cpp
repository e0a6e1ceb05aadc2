// The standby's side of replication (replica_keeper.hpp).
#include "endure/net/cluster/replication/replica_keeper.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <atomic>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <unistd.h>

#include "endure/actors/detail/caf_error.hpp"
#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/persistence/detail/sync_directory.hpp"
#include "endure/persistence/write_batch_codec.hpp"

namespace endure::cluster::replication_detail {
struct runtime_opener {
  open_runtime_fn open;
};
} // namespace endure::cluster::replication_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(endure::cluster::replication_detail::runtime_opener)

namespace endure::cluster {

namespace {

namespace fs = std::filesystem;
using namespace replication_detail;
using endure::detail::to_caf_error;
using broken_atom = caf::atom_constant<caf::atom("rp_broken")>;

struct replica {
  std::string dir;
  std::unique_ptr<journal> store;
  /// The stream it continues (0: none, a copy comes first) and the last
  /// batch of it queued to `store`.
  std::uint64_t epoch = 0;
  std::uint64_t through = 0;
  caf::actor source;
  /// Set by the first batch of the epoch that fails here: no later batch
  /// is acknowledged (the owner would take it for applied).
  std::shared_ptr<std::atomic<bool>> failed = std::make_shared<std::atomic<bool>>(false);
  /// Each installed copy: a failure reported for an older one is stale.
  std::uint64_t generation = 0;
  // A copy coming in: written to dir + ".incoming", then renamed over dir.
  int fd = -1;
  std::uint64_t copy_epoch = 0;
  std::uint64_t written = 0;
  /// Taken over: the runtime running the replica (open_runtime).
  caf::actor runtime;

  ~replica() {
    if (fd >= 0)
      ::close(fd);
  }
};

struct keeper_state {
  replica_keeper_options opts;
  open_runtime_fn open_runtime;
  std::map<std::string, std::unique_ptr<replica>> replicas;
  static inline const char* name = "endure.replica_keeper";
};

using keeper_actor = caf::stateful_actor<keeper_state>;

/// A kill -9 (or a failed rename) between install_copy's two renames left
/// DIR.old and no DIR: the old replica is the replica. Run when this
/// process holds its data directory's lock (restore_atom, sent once the
/// runtime is open), so a second process started on the same directory
/// never touches it, and before each install.
void restore_aside(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec) && fs::exists(dir + ".old", ec))
    fs::rename(dir + ".old", dir, ec);
}

expected<void> write_all(int fd, const std::string& bytes, const std::string& what) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return make_error(errc::io_error, "cannot write " + what + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

/// Why `r`'s primary is fenced (its marker's text); empty when it is not.
std::string fenced_because(const replica& r) {
  std::ifstream in{fence_marker(r.dir)};
  if (!in)
    return {};
  std::string text;
  std::getline(in, text);
  return text.empty() ? std::string{"its standby took it over"} : text;
}

/// Writes `text` to `file` durably (the file and its directory entry).
expected<void> write_durably(const std::string& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(errc::io_error, "cannot create " + file + ": " + std::strerror(errno));
  auto written = write_all(fd, text, file);
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written)
    return written;
  if (!synced)
    return make_error(errc::io_error, "cannot sync " + file + ": " + std::strerror(errno));
  return sync_directory(fs::path{file}.parent_path().string());
}

/// Whether `primary` may stream here: this node is its standby, or took
/// its standby over.
bool keeps_replica_of(const keeper_state& st, const std::string& primary) {
  if (std::find(st.opts.primaries.begin(), st.opts.primaries.end(), primary)
      != st.opts.primaries.end())
    return true;
  auto standby = st.opts.standby_of.find(primary);
  if (standby == st.opts.standby_of.end() || standby->second == st.opts.self)
    return false;
  auto taken = st.replicas.find(standby->second);
  return taken != st.replicas.end() && taken->second && taken->second->runtime;
}

replica* find(keeper_actor* self, const std::string& primary) {
  auto& st = self->state;
  if (!keeps_replica_of(st, primary))
    return nullptr;
  auto& r = st.replicas[primary];
  if (!r) {
    r = std::make_unique<replica>();
    r->dir = (fs::path{st.opts.dir} / primary).string();
  }
  return r.get();
}

void refuse(replica& r, std::uint64_t epoch, const std::string& why) {
  r.epoch = 0;
  if (r.source)
    caf::anon_send(r.source, resync_atom::value, epoch, why);
}

/// Only the source that attached last may stream to or copy over a
/// replica (a late message of an owner's earlier process is dropped).
bool from_source(keeper_actor* self, const replica& r) {
  return r.source && caf::actor_cast<caf::actor_addr>(self->current_sender()) == r.source.address();
}

void apply_batches(keeper_actor* self, const std::string& primary, std::uint64_t epoch,
                   std::uint64_t first, std::vector<std::string>& bytes) {
  auto* r = find(self, primary);
  if (!r || bytes.empty() || !from_source(self, *r))
    return;
  if (r->epoch == 0 || epoch != r->epoch || !r->store)
    return refuse(*r, epoch, "the replica holds no stream of this epoch");
  if (first != r->through + 1)
    return refuse(*r, epoch, "batch " + std::to_string(first) + " follows "
                               + std::to_string(r->through) + ": a gap");
  // One batch for the whole message: one commit and one completion here
  // (any batch failing fails them all, which sends a copy anyway).
  write_batch all;
  for (auto& b : bytes) {
    auto decoded = decode_batch(b);
    if (!decoded)
      return refuse(*r, epoch, decoded.error().message);
    all.splice(std::move(*decoded));
  }
  auto last = first + bytes.size() - 1;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  r->store->commit(std::move(all), [me, source = r->source, failed = r->failed, epoch, first, last,
                                    primary, gen = r->generation](const expected<void>& ok) {
    if (failed->load())
      return;
    if (!ok) {
      failed->store(true);
      caf::anon_send(me, broken_atom::value, primary, gen,
                     "batches " + std::to_string(first) + " to " + std::to_string(last) + ": "
                       + ok.error().message);
      return;
    }
    caf::anon_send(source, ack_atom::value, epoch, last);
  });
  r->through = last;
}

/// Renames the finished copy over the replica and opens it.
expected<void> install_copy(keeper_actor* self, replica& r) {
  if (::fsync(r.fd) != 0 || ::close(r.fd) != 0) {
    r.fd = -1;
    return make_error(errc::io_error, "cannot sync the replica copy in " + r.dir + ".incoming");
  }
  r.fd = -1;
  if (auto synced = sync_directory(r.dir + ".incoming"); !synced)  // its data.mdb entry
    return synced;
  // The old replica moves aside before the new one moves in, and goes
  // only after: a kill -9 between leaves DIR.old, which the keeper moves
  // back when its process next opens (restore_aside). One an earlier install left
  // (its second rename failed) is the replica until this one is in.
  restore_aside(r.dir);
  std::error_code ec;
  fs::remove_all(r.dir + ".old", ec);
  if (fs::exists(r.dir))
    fs::rename(r.dir, r.dir + ".old", ec);
  if (!ec)
    fs::rename(r.dir + ".incoming", r.dir, ec);
  if (ec)
    return make_error(errc::io_error, "cannot move the replica copy to " + r.dir + ": "
                                        + ec.message());
  // The renames are durable before the owner counts on them.
  if (auto synced = sync_directory(fs::path{r.dir}.parent_path().string()); !synced)
    return synced;
  fs::remove_all(r.dir + ".old", ec);
  journal_options o;
  o.data_dir = r.dir;
  o.mode = self->state.opts.mode;
  auto opened = journal::open(std::move(o));
  if (!opened)
    return std::move(opened).error();
  r.store = std::move(*opened);
  return {};
}

caf::result<std::uint64_t> take_copy(keeper_actor* self, const std::string& primary,
                                     std::uint64_t epoch, std::uint64_t through,
                                     std::uint64_t offset, const std::string& bytes, bool last) {
  auto* r = find(self, primary);
  if (!r)
    return to_caf_error(errc::invalid_argument, "node " + self->state.opts.self
                                                  + " is not the standby of node " + primary);
  if (!from_source(self, *r))
    return to_caf_error(errc::invalid_argument, "a copy of node " + primary
                                                  + "'s journal from a source that did not "
                                                    "attach last");
  if (offset == 0) {
    r->store.reset();  // drains what it has queued
    r->epoch = 0;
    if (r->fd >= 0)
      ::close(r->fd);
    std::error_code ec;
    fs::remove_all(r->dir + ".incoming", ec);
    fs::create_directories(r->dir + ".incoming", ec);
    r->fd = ::open((r->dir + ".incoming/data.mdb").c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC,
                   0600);
    if (ec || r->fd < 0)
      return to_caf_error(errc::io_error, "cannot create " + r->dir + ".incoming/data.mdb: "
                                            + std::strerror(errno));
    r->copy_epoch = epoch;
    r->written = 0;
  }
  if (r->fd < 0 || epoch != r->copy_epoch || offset != r->written)
    return to_caf_error(errc::invalid_argument, "a piece of node " + primary
                                                  + "'s journal copy out of order (offset "
                                                  + std::to_string(offset) + ")");
  if (auto w = write_all(r->fd, bytes, r->dir + ".incoming/data.mdb"); !w)
    return to_caf_error(w.error());
  r->written += bytes.size();
  if (!last)
    return r->written;
  if (auto ok = install_copy(self, *r); !ok)
    return to_caf_error(ok.error());
  r->epoch = epoch;
  r->through = through;
  r->failed = std::make_shared<std::atomic<bool>>(false);
  ++r->generation;
  log::info("node " + self->state.opts.self + ": replica of node " + primary + " installed ("
            + std::to_string(r->written) + " bytes, through batch " + std::to_string(through)
            + ")");
  return r->written;
}

std::string utc_now() {
  char text[32];
  auto now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

/// Runs `primary`'s replica here: closes it, fences the primary (the
/// marker, durable before anything runs) and opens a runtime on it.
expected<caf::actor> take_over(keeper_actor* self, const std::string& primary) {
  auto& opts = self->state.opts;
  auto* r = find(self, primary);
  if (!r)
    return make_error(errc::invalid_argument, "node " + opts.self + " is not the standby of node "
                                                + primary);
  if (r->runtime)
    return r->runtime;
  if (!self->state.open_runtime)
    return make_error(errc::invalid_state, "node " + opts.self + " cannot run replicas "
                                           "(no runtime to open them with)");
  std::error_code ec;
  restore_aside(r->dir);
  if (!fs::exists(fs::path{r->dir} / "data.mdb", ec))
    return make_error(errc::not_found, "node " + opts.self + " holds no replica of node "
                                         + primary + " (it never streamed here): nothing to "
                                         "take over");
  // From here the primary's stream ends: a copy cut short is dropped (the
  // replica before it holds every commit the primary acknowledged: a
  // copy's commits wait until it is in).
  if (r->fd >= 0) {
    ::close(r->fd);
    r->fd = -1;
  }
  fs::remove_all(r->dir + ".incoming", ec);
  r->store.reset();  // drains what it has queued
  auto stream = std::exchange(r->source, caf::actor{});
  auto epoch = std::exchange(r->epoch, 0);
  auto marker = fence_marker(r->dir);
  bool fenced_here = !fs::exists(marker, ec);
  if (fenced_here) {
    auto why = "node " + opts.self + " took node " + primary + " over at " + utc_now();
    if (auto fenced = write_durably(marker, why + "\n"); !fenced) {
      r->source = stream;  // not taken over: it sends a copy and goes on
      refuse(*r, epoch, "the takeover failed: " + fenced.error().message);
      return std::move(fenced).error();
    }
  }
  auto runtime = self->state.open_runtime(primary, r->dir);
  if (!runtime) {
    // Nothing ran: unless an earlier takeover fenced it, or the process
    // stops (a runtime it opened meanwhile may have run steps), the
    // primary may go on (its stream sends a copy).
    if (fenced_here && runtime.error().code != errc::shut_down) {
      fs::remove(marker, ec);
      (void)sync_directory(fs::path{r->dir}.parent_path().string());
      r->source = stream;
      refuse(*r, epoch, "the takeover failed");
    }
    return make_error(runtime.error().code, "cannot run node " + primary + "'s replica in "
                                              + r->dir + ": " + runtime.error().message);
  }
  r->runtime = std::move(*runtime);
  log::warn("node " + opts.self + " runs node " + primary + "'s runs now, from its replica in "
            + r->dir + " (" + fenced_because(*r) + ")");
  return r->runtime;
}

caf::behavior keeper_body(keeper_actor* self, replica_keeper_options opts) {
  self->state.opts = std::move(opts);
  return {
    [self](restore_atom) {
      for (auto& [node, standby] : self->state.opts.standby_of)
        if (node != self->state.opts.self)
          restore_aside((fs::path{self->state.opts.dir} / node).string());
    },
    [self](const runtime_opener& opener) {
      self->state.open_runtime = opener.open;
      for (auto& primary : self->state.opts.primaries) {
        std::error_code ec;
        if (!fs::exists(fence_marker((fs::path{self->state.opts.dir} / primary).string()), ec))
          continue;
        // Taken over by an earlier process of this node: run it again.
        if (auto taken = take_over(self, primary); !taken)
          log::error("node " + self->state.opts.self + " took node " + primary
                     + " over before and cannot run its replica now: "
                     + taken.error().message);
      }
    },
    [self](take_over_atom, const std::string& primary) -> caf::result<caf::actor> {
      try {
        auto taken = take_over(self, primary);
        if (!taken)
          return to_caf_error(taken.error());
        return *taken;
      } catch (const std::exception& e) {
        return to_caf_error(errc::io_error, "cannot take node " + primary + " over: " + e.what());
      }
    },
    [self](hosted_atom) -> caf::result<std::vector<std::string>, std::vector<caf::actor>> {
      std::vector<std::string> names;
      std::vector<caf::actor> runtimes;
      for (auto& [primary, r] : self->state.replicas)
        if (r && r->runtime) {
          names.push_back(primary);
          runtimes.push_back(r->runtime);
        }
      return {std::move(names), std::move(runtimes)};
    },
    [self](attach_atom, const std::string& primary, std::uint64_t,
           const caf::actor& source)
      -> caf::result<caf::actor, std::uint64_t, std::uint64_t, std::string> {
      auto* r = find(self, primary);
      if (!r)
        return to_caf_error(errc::invalid_argument, "node " + self->state.opts.self
                                                      + " is not the standby of node " + primary);
      if (auto fenced = fenced_because(*r); !fenced.empty())
        return {caf::actor_cast<caf::actor>(self), std::uint64_t{0}, std::uint64_t{0}, fenced};
      r->source = source;
      // What it answers is applied, not merely queued: the owner
      // acknowledges everything through it. An empty batch completes
      // after every batch queued before it (this thread may block).
      if (r->store && r->epoch != 0)
        (void)r->store->commit(write_batch{});
      if (r->failed->load())
        r->epoch = 0;
      return {caf::actor_cast<caf::actor>(self), r->epoch, r->epoch ? r->through : 0,
              std::string{}};
    },
    [self](batches_atom, const std::string& primary, std::uint64_t epoch, std::uint64_t first,
           std::vector<std::string>& bytes) {
      try {  // a peer's bad input must not end the keeper of every replica
        apply_batches(self, primary, epoch, first, bytes);
      } catch (const std::exception& e) {
        if (auto* r = find(self, primary))
          refuse(*r, epoch, std::string{"cannot apply the stream: "} + e.what());
      }
    },
    [self](copy_atom, const std::string& primary, std::uint64_t epoch, std::uint64_t through,
           std::uint64_t offset, const std::string& bytes,
           bool last) -> caf::result<std::uint64_t> {
      try {
        return take_copy(self, primary, epoch, through, offset, bytes, last);
      } catch (const std::exception& e) {
        return to_caf_error(errc::io_error, std::string{"cannot take the copy: "} + e.what());
      }
    },
    [self](broken_atom, const std::string& primary, std::uint64_t generation,
           const std::string& why) {
      auto* r = find(self, primary);
      if (r && r->generation == generation && r->epoch != 0) {
        auto epoch = r->epoch;
        log::warn("node " + self->state.opts.self + ": the replica of node " + primary
                  + " cannot apply " + why + "; it waits for a copy");
        refuse(*r, epoch, why);
      }
    },
  };
}

} // namespace

std::string fence_marker(const std::string& replica_dir) { return replica_dir + ".taken-over"; }

void give_runtime_opener(const caf::actor& keeper, open_runtime_fn open) {
  caf::anon_send(keeper, runtime_opener{std::move(open)});
}

caf::actor spawn_replica_keeper(caf::actor_system& sys, replica_keeper_options opts) {
  return sys.spawn<caf::detached>(keeper_body, std::move(opts));
}

} // namespace endure::cluster
