// The owner's side of replication (journal_source.hpp): one detached actor
// per node holding the batches its standby has not applied yet.
#include "endure/net/cluster/replication/journal_source.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <type_traits>

#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/persistence/fencing_sink.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/persistence/write_batch_codec.hpp"

namespace endure::cluster::replication_detail {

/// What a commit the source did not see through completes with when the
/// source stops: success (it is durable on this node), or in mode takeover
/// an error (the standby never applied it: acknowledged, a step's body
/// would run that a takeover runs again).
inline expected<void> unreplicated_outcome(bool takeover) {
  if (!takeover)
    return {};
  return make_error(errc::shut_down, "the node's replication stopped before its standby "
                                     "applied this commit (the node is stopping); it is not "
                                     "acknowledged, and the run resumes from what was");
}

/// One group commit on its way from the writer thread to the source. What
/// it still holds when it is destroyed (the source stopped first) completes
/// then, with unreplicated_outcome.
struct committed_group {
  std::vector<write_batch> batches;
  std::vector<commit_sink::completion> done;
  bool takeover = false;
  ~committed_group() {
    for (auto& d : done)
      if (d)
        d(unreplicated_outcome(takeover));
  }
};
using group_ptr = std::shared_ptr<committed_group>;

struct journal_ref {
  const journal* store = nullptr;
};

} // namespace endure::cluster::replication_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(endure::cluster::replication_detail::group_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(endure::cluster::replication_detail::journal_ref)

namespace endure::cluster {

namespace {

using namespace std::chrono_literals;
using namespace replication_detail;
using group_atom = caf::atom_constant<caf::atom("rp_group")>;
using journal_atom = caf::atom_constant<caf::atom("rp_journal")>;
using copied_atom = caf::atom_constant<caf::atom("rp_copied")>;
using wait_atom = caf::atom_constant<caf::atom("rp_wait")>;
using retry_atom = caf::atom_constant<caf::atom("rp_retry")>;
using stall_atom = caf::atom_constant<caf::atom("rp_stall")>;

/// Bytes of journal copy per message, and of batches per stream message
/// at most (one batch always goes): the peer's silence check
/// (failure_detection_ms) counts from the last whole message, so one
/// message must arrive well within it even on a slow link.
constexpr std::size_t copy_piece = std::size_t{1} << 20;
constexpr std::size_t bytes_per_message = std::size_t{1} << 20;
/// Batches per stream message.
constexpr std::size_t batches_per_message = 1024;
/// A failed attach or copy is tried again after 1 s, doubling per failure
/// in a row up to this.
constexpr auto max_retry_after = 60s;

/// Weak: the journal (and its sink) may outlive the source and its actor
/// system; a group that finds the source gone completes at once. Base:
/// commit_sink, or fencing_sink in mode takeover.
template <class Base>
class actor_sink : public Base {
public:
  using completion = commit_sink::completion;
  explicit actor_sink(const caf::actor& target)
    : target_(caf::actor_cast<caf::weak_actor_ptr>(target)) {}
  void committed(std::vector<write_batch> batches, std::vector<completion> done) override {
    auto g = std::make_shared<committed_group>();
    g->batches = std::move(batches);
    g->done = std::move(done);
    g->takeover = std::is_same_v<Base, fencing_sink>;
    if (auto target = target_.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(target), group_atom::value, std::move(g));
  }

private:
  caf::weak_actor_ptr target_;
};

enum class phase { away, attaching, copying, streaming };

struct entry {
  std::uint64_t no = 0;
  /// Moved into the stream when sent: a standby that reconnects within
  /// the epoch can be sent again only what it was never sent.
  std::string bytes;
  std::size_t size = 0;  ///< of bytes, kept once they are sent
  bool sent = false;
  commit_sink::completion done;  ///< empty once completed (or degraded)
  std::chrono::steady_clock::time_point at{};  ///< when it reached the source
};

struct source_state {
  journal_source_options opts;
  std::uint64_t epoch = 0;
  const journal* store = nullptr;
  std::uint64_t next_no = 1;
  /// Batches the standby has not applied, in order.
  std::deque<entry> buffer;
  std::size_t buffered_bytes = 0;  ///< of the batches not sent yet
  std::size_t in_flight_bytes = 0;  ///< of the batches sent and not acknowledged
  /// Batches were dropped from the buffer: only a copy catches up.
  bool gap = false;
  phase ph = phase::away;
  caf::actor router;  ///< the standby's router; null while it is away
  caf::actor keeper;
  /// Each attach or copy; replies of older ones are ignored.
  std::uint64_t attempt = 0;
  /// Each period without a stream; its wait timer names it.
  std::uint64_t away_period = 0;
  /// The standby was away longer than opts.wait: commits complete here.
  bool degraded = false;
  std::uint64_t copy_through = 0;
  /// Failed attaches or copies in a row: the next retry waits 2^n s (up to
  /// a minute), since a copy holds the owner's writes while it is made.
  unsigned failures = 0;
  /// The last batch acknowledged here alone: once the standby applied it,
  /// commits wait for the standby again.
  std::uint64_t degraded_through = 0;
  /// A stall check is scheduled (stall_atom) while streaming.
  bool stall_check = false;
  /// Why the standby refused this node (it took it over); empty until then.
  std::string fenced;
  /// This node took its own standby over: no replica is kept anywhere, and
  /// commits are acknowledged here alone even in mode takeover.
  bool alone = false;
  static inline const char* name = "endure.journal_source";

  ~source_state() {
    for (auto& e : buffer)  // stopping: durable on this node (see unreplicated_outcome)
      if (e.done)
        e.done(unreplicated_outcome(opts.takeover));
  }
};

using source_actor = caf::stateful_actor<source_state>;

void complete_through(source_actor* self, std::uint64_t through) {
  auto& st = self->state;
  while (!st.buffer.empty() && st.buffer.front().no <= through) {
    auto& e = st.buffer.front();
    if (e.done)
      e.done(expected<void>{});
    st.buffered_bytes -= e.bytes.size();  // 0 once sent
    if (e.sent)
      st.in_flight_bytes -= e.size;
    st.buffer.pop_front();
  }
}

std::string not_applied_for(const source_state& st) {
  return "has not applied the journal's commits for " + std::to_string(st.opts.wait.count())
         + " ms";
}

/// Completes every held commit on this node alone. `why` completes the
/// sentence "its standby ..." of the warning logged when that starts.
void degrade(source_actor* self, const std::string& why) {
  auto& st = self->state;
  if (st.opts.takeover && !st.alone)  // acknowledged alone, it could be lost in a takeover
    return;
  if (!st.degraded)
    log::warn("node " + st.opts.self + ": its standby " + st.opts.standby + " " + why
              + "; commits are acknowledged on " + st.opts.self + " alone until the standby "
              "returns and catches up");
  st.degraded = true;
  st.degraded_through = st.next_no - 1;
  for (auto& e : st.buffer)
    if (e.done)
      std::exchange(e.done, nullptr)(expected<void>{});
}

/// The standby took this node over: every commit held and every later
/// one fails, and the process hears of it (on_fenced).
void fence(source_actor* self, const std::string& why) {
  auto& st = self->state;
  if (!st.fenced.empty())
    return;
  st.fenced = "node " + st.opts.self + " was taken over by its standby " + st.opts.standby
              + " (" + why + "); its runs run there now, and this node's journal is stale. "
              "Keep this process stopped: the cluster refuses node " + st.opts.self
              + " from now on. To use this machine again, give it a new node name in every "
              "node's cluster file and start it with an empty data directory";
  log::error(st.opts.self + ": " + st.fenced);
  auto failed = make_error(errc::shut_down, st.fenced);
  for (auto& e : st.buffer)
    if (e.done)
      std::exchange(e.done, nullptr)(failed);
  st.buffer.clear();
  st.buffered_bytes = st.in_flight_bytes = 0;
  st.ph = phase::away;
  st.keeper = nullptr;
  ++st.attempt;
  if (st.opts.on_fenced)
    st.opts.on_fenced(st.fenced);
}

void leave_streaming(source_actor* self, phase next) {
  auto& st = self->state;
  if (st.ph == phase::streaming || st.ph == phase::away) {
    if (st.ph == phase::streaming) {
      ++st.away_period;
      self->delayed_send(self, st.opts.wait, wait_atom::value, st.away_period);
    }
  }
  st.ph = next;
}

void send_from(source_actor* self, std::size_t index) {
  auto& st = self->state;
  while (index < st.buffer.size() && st.buffer[index].sent)
    ++index;
  // A standby that stops reading gets no more than max_buffer_bytes
  // unacknowledged: the rest waits here, where take_group caps it.
  while (index < st.buffer.size() && st.in_flight_bytes < st.opts.max_buffer_bytes) {
    std::vector<std::string> bytes;
    auto first = st.buffer[index].no;
    std::size_t message_bytes = 0;
    for (; index < st.buffer.size() && bytes.size() < batches_per_message; ++index) {
      if (!bytes.empty()
          && (st.in_flight_bytes >= st.opts.max_buffer_bytes
              || message_bytes + st.buffer[index].size > bytes_per_message))
        break;  // the caps bind within a message too (one batch always goes)
      message_bytes += st.buffer[index].size;
      auto& e = st.buffer[index];
      st.buffered_bytes -= e.bytes.size();
      st.in_flight_bytes += e.size;
      bytes.push_back(std::move(e.bytes));
      e.bytes.clear();
      e.sent = true;
    }
    self->send(st.keeper, batches_atom::value, st.opts.self, st.epoch, first, std::move(bytes));
  }
}

void schedule_stall_check(source_actor* self) {
  auto& st = self->state;
  if (st.stall_check || st.ph != phase::streaming || st.buffer.empty())
    return;
  st.stall_check = true;
  self->delayed_send(self, std::max<std::chrono::milliseconds>(st.opts.wait, 10ms),
                     stall_atom::value);
}

void resume(source_actor* self, std::uint64_t through) {
  auto& st = self->state;
  complete_through(self, through);
  st.failures = 0;
  st.ph = phase::streaming;
  if (st.degraded)
    log::info("node " + st.opts.self + ": standby " + st.opts.standby
              + " caught up; commits are acknowledged once it applied them again");
  st.degraded = false;
  send_from(self, 0);
  schedule_stall_check(self);
}

void start_attach(source_actor* self);
void start_copy(source_actor* self);

void retry_later(source_actor* self, const std::string& why) {
  auto& st = self->state;
  auto after = std::min<std::chrono::seconds>(std::chrono::seconds{1L << std::min(st.failures, 6u)},
                                              max_retry_after);
  ++st.failures;
  log::warn("node " + st.opts.self + ": replication to standby " + st.opts.standby
            + " stopped (" + why + "); trying again in " + std::to_string(after.count()) + " s");
  leave_streaming(self, phase::away);
  st.keeper = nullptr;
  std::error_code ignored;
  std::filesystem::remove_all(st.opts.copy_dir, ignored);  // a copy is made anew
  self->delayed_send(self, after, retry_atom::value, ++st.attempt);
}

void send_piece(source_actor* self, std::uint64_t attempt, std::uint64_t offset) {
  auto& st = self->state;
  auto file = std::filesystem::path{st.opts.copy_dir} / "data.mdb";
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  std::ifstream in{file, std::ios::binary};
  if (ec || !in || offset >= size)
    return retry_later(self, "cannot read the journal copy " + file.string());
  std::string piece(static_cast<std::size_t>(std::min<std::uint64_t>(copy_piece, size - offset)),
                    '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
  if (!in)
    return retry_later(self, "cannot read the journal copy " + file.string());
  bool last = offset + piece.size() >= size;
  auto next = offset + piece.size();
  self->request(st.keeper, 60s, copy_atom::value, st.opts.self, st.epoch, st.copy_through, offset,
                std::move(piece), last)
    .then(
      [self, attempt, last, next](std::uint64_t) {
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        if (!last)
          return send_piece(self, attempt, next);
        std::error_code ignored;
        std::filesystem::remove_all(st.opts.copy_dir, ignored);
        if (st.gap)  // batches after the copy were dropped meanwhile
          return start_copy(self);
        log::info("node " + st.opts.self + ": standby " + st.opts.standby
                  + " holds a copy of the journal through batch "
                  + std::to_string(st.copy_through) + " (" + std::to_string(next) + " bytes)");
        resume(self, st.copy_through);
      },
      [self, attempt](caf::error& e) {
        if (attempt == self->state.attempt)
          retry_later(self, "sending the journal copy: " + self->system().render(e));
      });
}

void start_copy(source_actor* self) {
  auto& st = self->state;
  if (!st.store)
    return retry_later(self, "the journal is not open yet");
  leave_streaming(self, phase::copying);
  st.gap = false;  // the copy holds every batch so far
  auto attempt = ++st.attempt;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  st.store->copy_to(st.opts.copy_dir, [me, attempt](const expected<void>& r) {
    caf::anon_send(me, copied_atom::value, attempt, r ? std::string{} : r.error().message);
  });
}

bool can_continue(const source_state& st, std::uint64_t their_epoch, std::uint64_t through) {
  if (their_epoch != st.epoch || st.gap || through >= st.next_no)
    return false;
  if (st.buffer.empty())
    return through == st.next_no - 1;
  if (st.buffer.front().no > through + 1)
    return false;
  // What the standby lacks must still be here to send.
  return std::all_of(st.buffer.begin(), st.buffer.end(),
                     [through](const entry& e) { return e.no <= through || !e.sent; });
}

void start_attach(source_actor* self) {
  auto& st = self->state;
  if (!st.router)
    return;
  leave_streaming(self, phase::attaching);
  auto attempt = ++st.attempt;
  self->request(st.router, 10s, attach_atom::value, st.opts.self, st.epoch,
                caf::actor_cast<caf::actor>(self))
    .then(
      [self, attempt](const caf::actor& keeper, std::uint64_t their_epoch, std::uint64_t through,
                      const std::string& taken_over) {
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        if (!taken_over.empty())
          return fence(self, taken_over);
        if (!keeper)
          return retry_later(self, "the standby has no replica keeper");
        st.keeper = keeper;
        self->monitor(keeper);
        if (can_continue(st, their_epoch, through))
          resume(self, through);
        else
          start_copy(self);
      },
      [self, attempt](caf::error& e) {
        if (attempt == self->state.attempt)
          retry_later(self, "attaching: " + self->system().render(e));
      });
}

/// Drops the batches held for the stream (the standby gets a copy). In
/// mode takeover their commits stay, without their bytes, until the copy
/// is applied; otherwise degrade() completed them.
void drop_stream(source_actor* self) {
  auto& st = self->state;
  if (st.opts.takeover) {
    for (auto& e : st.buffer) {
      e.bytes = std::string{};
      e.size = 0;
      e.sent = true;
    }
    std::erase_if(st.buffer, [](const entry& e) { return !e.done; });
  } else {
    st.buffer.clear();
  }
  st.buffered_bytes = 0;
  st.in_flight_bytes = 0;
  st.gap = true;
}

void take_group(source_actor* self, committed_group& g) {
  auto& st = self->state;
  if (!st.fenced.empty()) {
    for (auto& d : g.done)
      std::exchange(d, nullptr)(make_error(errc::shut_down, st.fenced));
    return;
  }
  auto first_new = st.buffer.size();
  for (std::size_t i = 0; i < g.batches.size(); ++i) {
    auto bytes = encode_batch(g.batches[i]);
    auto size = bytes.size();
    entry e{st.next_no++, std::move(bytes), size, false, std::move(g.done[i]),
            std::chrono::steady_clock::now()};
    g.done[i] = nullptr;
    if (st.degraded) {
      std::exchange(e.done, nullptr)(expected<void>{});
      st.degraded_through = e.no;
    }
    st.buffered_bytes += e.bytes.size();
    st.buffer.push_back(std::move(e));
  }
  if (st.ph == phase::streaming) {
    send_from(self, first_new);
    schedule_stall_check(self);
  }
  if (st.buffered_bytes > st.opts.max_buffer_bytes) {
    // Past the cap (the standby is away, copying, or connected and not
    // reading): acknowledged here alone, and the standby gets a copy
    // (another one if it is copying).
    degrade(self, "has " + std::to_string(st.opts.max_buffer_bytes >> 20)
                    + " MiB of the stream waiting (buffer_mib)");
    drop_stream(self);
    if (st.ph == phase::streaming) {
      // Logged even when already degraded (the stall check may have
      // degraded first): the copy is the news here.
      log::warn("node " + st.opts.self + ": standby " + st.opts.standby
                + " is not reading the stream; sending it a copy of the journal instead");
      start_copy(self);
    }
  }
}

caf::behavior source_body(source_actor* self, journal_source_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  std::random_device rd;
  while (st.epoch == 0)
    st.epoch = (std::uint64_t{rd()} << 32) ^ rd();
  // From the start the standby is away until attached: commits wait for
  // it at most opts.wait.
  self->delayed_send(self, st.opts.wait, wait_atom::value, st.away_period);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.keeper && dm.source == st.keeper.address() && st.ph != phase::away)
      retry_later(self, "the standby's keeper went away");
  });
  return {
    [self](group_atom, const group_ptr& g) { take_group(self, *g); },
    [self](journal_atom, const journal_ref& j) { self->state.store = j.store; },
    [self](alone_atom) {
      auto& st = self->state;
      st.alone = true;
      st.router = nullptr;
      leave_streaming(self, phase::away);
      st.keeper = nullptr;
      ++st.attempt;
      degrade(self, "was taken over by this node itself: no node is left to keep a replica");
    },
    [self](standby_atom, const caf::actor& router) {
      auto& st = self->state;
      st.alone = false;
      st.router = router;
      if (router)
        return start_attach(self);
      leave_streaming(self, phase::away);
      st.keeper = nullptr;
      ++st.attempt;
    },
    [self](fenced_atom, const std::string& why) {
      if (self->state.opts.takeover)
        fence(self, why);
      else
        log::error("node " + self->state.opts.self + ": a peer says " + why
                   + ", but replication here is not in mode takeover: check that every node "
                   "has the same cluster file");
    },
    [self](retry_atom, std::uint64_t attempt) {
      if (attempt == self->state.attempt && self->state.ph == phase::away)
        start_attach(self);
    },
    [self](wait_atom, std::uint64_t period) {
      auto& st = self->state;
      if (period == st.away_period && st.ph != phase::streaming)
        degrade(self, not_applied_for(st));
    },
    [self](ack_atom, std::uint64_t epoch, std::uint64_t through) {
      auto& st = self->state;
      if (epoch != st.epoch || st.ph != phase::streaming)
        return;
      complete_through(self, through);
      if (st.buffered_bytes > 0)  // batches waited for room in flight
        send_from(self, 0);
      if (st.degraded && through >= st.degraded_through) {
        st.degraded = false;
        log::info("node " + st.opts.self + ": standby " + st.opts.standby
                  + " caught up; commits are acknowledged once it applied them again");
      }
    },
    [self](stall_atom) {
      // A standby that is connected but does not apply (a hung disk): a
      // commit waits for it no longer than wait_ms either.
      auto& st = self->state;
      st.stall_check = false;
      if (st.ph != phase::streaming || st.buffer.empty())
        return;
      auto oldest = std::find_if(st.buffer.begin(), st.buffer.end(),
                                 [](const entry& e) { return static_cast<bool>(e.done); });
      if (oldest != st.buffer.end()
          && std::chrono::steady_clock::now() - oldest->at >= st.opts.wait)
        degrade(self, not_applied_for(st));
      schedule_stall_check(self);
    },
    [self](resync_atom, std::uint64_t epoch, const std::string& why) {
      auto& st = self->state;
      if (epoch != st.epoch || st.ph != phase::streaming)
        return;
      log::warn("node " + st.opts.self + ": standby " + st.opts.standby
                + " cannot apply the stream (" + why + "); sending it a copy of the journal");
      start_copy(self);
    },
    [self](copied_atom, std::uint64_t attempt, const std::string& failed) {
      auto& st = self->state;
      if (attempt != st.attempt)
        return;
      if (!failed.empty())
        return retry_later(self, "copying the journal: " + failed);
      // Every group committed before the copy arrived before this message
      // (both come from the writer thread, in order).
      st.copy_through = st.next_no - 1;
      send_piece(self, attempt, 0);
    },
  };
}

} // namespace

journal_source spawn_journal_source(caf::actor_system& sys, journal_source_options opts) {
  auto takeover = opts.takeover;
  auto actor = sys.spawn<caf::detached>(source_body, std::move(opts));
  if (takeover)
    return {actor, std::make_shared<actor_sink<fencing_sink>>(actor)};
  return {actor, std::make_shared<actor_sink<commit_sink>>(actor)};
}

void attach_journal(const caf::actor& source, const journal& store) {
  caf::anon_send(source, journal_atom::value, journal_ref{&store});
}

} // namespace endure::cluster
