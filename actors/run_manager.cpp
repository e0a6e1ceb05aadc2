// The run manager actor (see detail/run_manager.hpp). One per runtime; its
// handlers are short: journal reads for existence checks, spawns, and
// delegation of requests to run actors so they answer the caller directly.
#include "actors/detail/run_manager.hpp"

#include <caf/all.hpp>

#include <deque>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "actors/activity_pool.hpp"
#include "actors/atoms.hpp"
#include "actors/detail/clock.hpp"
#include "actors/detail/run_actor.hpp"
#include "actors/events.hpp"
#include "actors/heap_trim.hpp"
#include "actors/offline_control.hpp"
#include "actors/run_outcome.hpp"
#include "persistence/journal.hpp"
#include "supervisors/backoff.hpp"
#include "supervisors/exit_reasons.hpp"
#include "supervisors/intensity_window.hpp"

namespace endure::detail {

namespace {


using outcome_msg = std::tuple<std::uint8_t, std::string, std::string>;

struct manager_state {
  struct queued_start {
    std::string run_id;
    std::string workflow;
    std::string input;
    caf::response_promise rp;  ///< invalid for wakes
  };

  run_env env;
  manager_options opts;
  caf::event_based_actor* self = nullptr;
  std::unordered_map<std::string, caf::actor> active;
  std::unordered_map<caf::actor_addr, std::string> ids;
  std::unordered_set<std::string> crashed;  ///< respawn behind a barrier
  std::unordered_map<std::string, intensity_window> restarts;
  std::minstd_rand rng{std::random_device{}()};
  bool stopping = false;  ///< shutting down: spawns nothing, quits when empty
  caf::error stop_reason;
  std::deque<queued_start> queue;
  std::unordered_set<std::string> queued_ids;
  std::unordered_map<std::string, std::vector<caf::response_promise>> waiters;
  std::deque<std::string> recovery;
  heap_trim_schedule trims;
  struct pending_release {
    std::string reason;
    caf::response_promise rp;
  };
  std::unordered_map<std::string, std::vector<pending_release>> releases_after_stop;

  manager_state() = default;
  manager_state(const manager_state&) = delete;
  manager_state& operator=(const manager_state&) = delete;
  /// Killed (not shut down): take the run actors along, so that no run
  /// ever has two live actors once a new manager takes over.
  ~manager_state() {
    for (auto& [id, actor] : active)
      caf::anon_send_exit(actor, caf::exit_reason::kill);
  }

  bool full() const { return opts.max_active > 0 && active.size() >= opts.max_active; }

  caf::actor spawn(const std::string& id) {
    bool barrier = crashed.erase(id) > 0 || opts.barrier_all;
    auto a = spawn_run_actor(self, id, env, barrier);
    active.emplace(id, a);
    ids.emplace(a.address(), id);
    return a;
  }

  /// Wakes an existing, unfinished run unless it is active or queued.
  void wake(const std::string& id) {
    if (stopping || active.count(id) || queued_ids.count(id))
      return;
    if (full()) {
      queued_ids.insert(id);
      queue.push_back({id, {}, {}, {}});
      return;
    }
    spawn(id);
  }

  /// Forwards a request to run actor `a` and its `Reply` to `rp`. The actor
  /// may stop before it reads the request (a resumed run that only had to
  /// finish or compensate); then `if_gone(rp, error)` answers.
  template <class Reply, class IfGone, class... Ts>
  void forward_to_run(const caf::actor& a, caf::response_promise rp, IfGone if_gone,
                      Ts&&... xs) {
    self->request(a, caf::infinite, std::forward<Ts>(xs)...)
      .then([rp](Reply& r) mutable { rp.deliver(std::move(r)); },
            [rp, if_gone](caf::error& e) mutable { if_gone(rp, e); });
  }

  /// A start (or attach): if the actor is gone, the journal's status answers.
  void start_via(const caf::actor& a, const std::string& id, const std::string& wf,
                 const std::string& input, caf::response_promise rp) {
    auto if_gone = [store = env.store, id](caf::response_promise& rp, caf::error& e) {
      if (auto meta = store->run(id))
        rp.deliver(static_cast<std::uint8_t>(meta->status));
      else
        rp.deliver(std::move(e));
    };
    forward_to_run<std::uint8_t>(a, std::move(rp), if_gone, atoms::start::value, id, wf, input);
  }

  void admit_queued() {
    while (!queue.empty() && !full()) {
      auto q = std::move(queue.front());
      queue.pop_front();
      queued_ids.erase(q.run_id);
      auto it = active.find(q.run_id);
      auto a = it != active.end() ? it->second : spawn(q.run_id);
      if (q.rp.pending())
        start_via(a, q.run_id, q.workflow, q.input, q.rp);
    }
  }

  void notify(const std::string& id, outcome_msg msg) {
    auto it = waiters.find(id);
    if (it == waiters.end())
      return;
    for (auto& rp : it->second)
      rp.deliver(std::get<0>(msg), std::get<1>(msg), std::get<2>(msg));
    waiters.erase(it);
  }

  void on_down(const caf::down_msg& dm) {
    auto it = ids.find(dm.source);
    if (it == ids.end())
      return;
    auto id = it->second;
    ids.erase(it);
    active.erase(id);
    note_stop();
    release_waiting(id);
    if (stopping) {
      if (active.empty())
        self->quit(stop_reason);
      return;
    }
    if (dm.reason && dm.reason != caf::exit_reason::normal
        && dm.reason != caf::exit_reason::user_shutdown)
      on_crash(id, describe(dm.reason));
    admit_queued();
  }

  /// Many run actors stopped (passivated, finished): their memory is free
  /// but still held by the allocator; give it back a little later, once per
  /// burst rather than once per actor.
  void note_stop() {
    if (trims.on_stop())
      self->delayed_send(self, opts.trim_interval, atoms::trim::value);
  }

  void on_trim() {
    trims.on_trimmed();
    env.pool->submit([] { release_free_heap(); });
  }

  /// Restarts the run from its journal after a backoff, or quarantines it
  /// once it crashed more often than the intensity allows.
  void on_crash(const std::string& id, const std::string& reason) {
    crashed.insert(id);
    auto window = restarts.try_emplace(id, opts.restart_intensity, opts.restart_period).first;
    auto now = std::chrono::steady_clock::now();
    if (!window->second.record(now)) {
      std::uniform_real_distribution<double> unit{0.0, 1.0};
      auto delay = backoff_delay(opts.restart_backoff, window->second.count(now) - 1, unit(rng));
      self->delayed_send(self, delay, atoms::wake::value, id);
      return;
    }
    auto why = "run actor of " + id + " crashed " + std::to_string(window->second.count(now))
               + " times within " + std::to_string(opts.restart_period.count())
               + " ms; last: " + reason + ". Fix the cause, then `endure release " + id + "`";
    write_batch b;
    b.set_status(id, run_status::quarantined, why, now_ms());
    // Waiters hear of the quarantine once it is durable.
    auto me = caf::actor_cast<caf::actor>(self);
    env.store->commit(std::move(b), [me, id, why](const expected<void>&) {
      caf::anon_send(me, atoms::finished::value, id,
                     static_cast<std::uint8_t>(run_status::quarantined), std::string{}, why);
    });
  }

  /// Releases quarantined run `id` (journals the release, replies, wakes
  /// the run). A run whose actor is still stopping (it has just quarantined
  /// itself, and its waiters may already know) is released once it is down.
  void release(const std::string& id, const std::string& reason, caf::response_promise rp) {
    auto meta = env.store->run(id);
    if (!meta) {
      rp.deliver(meta.error().message);
      return;
    }
    if (meta->status != run_status::quarantined) {
      rp.deliver("run " + id + " is " + std::string{to_string(meta->status)}
                 + ", not quarantined; only a quarantined run can be released");
      return;
    }
    if (active.count(id)) {
      releases_after_stop[id].push_back({reason, std::move(rp)});
      return;
    }
    restarts.erase(id);
    crashed.erase(id);
    auto last = env.store->last_seq(id);
    auto me = caf::actor_cast<caf::actor>(self);
    env.store->commit(release_batch(id, (last ? *last : 0) + 1, reason),
                      [me, rp, id](const expected<void>& r) mutable {
                        rp.deliver(r ? std::string{} : r.error().to_string());
                        if (r)
                          caf::anon_send(me, atoms::wake::value, id);
                      });
  }

  /// Releases asked for while `id`'s actor was stopping.
  void release_waiting(const std::string& id) {
    auto it = releases_after_stop.find(id);
    if (it == releases_after_stop.end())
      return;
    auto pending = std::move(it->second);
    releases_after_stop.erase(it);
    for (auto& p : pending)
      release(id, p.reason, std::move(p.rp));
  }

  /// Resumes the next batch of unfinished runs; ticks until none is left.
  void tick() {
    for (std::size_t n = 0; n < opts.recovery_batch && !recovery.empty(); ++n) {
      wake(recovery.front());
      recovery.pop_front();
    }
    if (!recovery.empty())
      self->delayed_send(self, opts.tick, atoms::tick::value);
  }

  /// Stops every run actor (their journals keep their state); the manager
  /// quits with `reason` once the last one is down.
  void shut_down(caf::error reason) {
    stopping = true;
    stop_reason = std::move(reason);
    recovery.clear();
    for (auto& q : queue)
      if (q.rp.pending())
        q.rp.deliver(caf::make_error(caf::sec::runtime_error, "the runtime is shutting down"));
    queue.clear();
    queued_ids.clear();
    for (auto& [id, actor] : active)
      self->send_exit(actor, caf::exit_reason::user_shutdown);
    if (active.empty())
      self->quit(stop_reason);
  }
};

/// Replies an error text to a signal/cancel for a run that cannot take it.
std::string missing_run(const journal& store, const std::string& id) {
  auto meta = store.run(id);
  if (!meta)
    return meta.error().message;
  if (is_terminal(meta->status))
    return "run " + id + " has already " + std::string{to_string(meta->status)};
  return {};
}

/// Refuses requests that would spawn a run actor during shutdown.
bool refuse_if_stopping(caf::stateful_actor<manager_state>* self) {
  if (!self->state.stopping)
    return false;
  self->make_response_promise().deliver(
    caf::make_error(caf::sec::runtime_error, "the runtime is shutting down"));
  return true;
}

caf::behavior run_manager(caf::stateful_actor<manager_state>* self, run_env env,
                          manager_options opts) {
  auto& st = self->state;
  st.env = std::move(env);
  st.env.manager = caf::actor_cast<caf::actor>(self);
  st.opts = opts;
  st.trims = heap_trim_schedule{opts.trim_after_stops};
  st.self = self;
  self->set_down_handler([self](caf::down_msg& dm) { self->state.on_down(dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason && em.reason != caf::exit_reason::normal && !self->state.stopping)
      self->state.shut_down(std::move(em.reason));
  });
  exit_on_exception(self);
  if (opts.recover)
    self->send(self, atoms::recover::value);
  return {
    [=](atoms::trim) { self->state.on_trim(); },
    [=](atoms::start, const std::string& id, const std::string& wf, const std::string& input) {
      auto& st = self->state;
      if (refuse_if_stopping(self))
        return;
      if (auto it = st.active.find(id); it != st.active.end())
        return st.start_via(it->second, id, wf, input, self->make_response_promise());
      if (auto meta = st.env.store->run(id);
          meta && (is_terminal(meta->status) || meta->status == run_status::quarantined))
        return self->make_response_promise().deliver(static_cast<std::uint8_t>(meta->status));
      if (st.full()) {
        st.queued_ids.insert(id);
        st.queue.push_back({id, wf, input, self->make_response_promise()});
        return;
      }
      st.start_via(st.spawn(id), id, wf, input, self->make_response_promise());
    },
    [=](atoms::signal, const std::string& id, const std::string& name,
        const std::string& payload) {
      auto& st = self->state;
      if (refuse_if_stopping(self))
        return;
      if (auto err = missing_run(*st.env.store, id); !err.empty())
        return self->make_response_promise().deliver(err);
      auto it = st.active.find(id);
      auto a = it != st.active.end() ? it->second : st.spawn(id);  // signals skip the queue
      st.queued_ids.erase(id);
      auto ended = [id](caf::response_promise& rp, caf::error&) {
        rp.deliver("run " + id + " is not accepting signals (it has just finished)");
      };
      st.forward_to_run<std::string>(a, self->make_response_promise(), ended,
                                     atoms::signal::value, id, name, payload);
    },
    [=](atoms::cancel, const std::string& id, const std::string& reason) {
      auto& st = self->state;
      if (refuse_if_stopping(self))
        return;
      if (auto err = missing_run(*st.env.store, id); !err.empty())
        return self->make_response_promise().deliver(err);
      auto it = st.active.find(id);
      auto a = it != st.active.end() ? it->second : st.spawn(id);
      auto ended = [](caf::response_promise& rp, caf::error&) {
        rp.deliver(std::string{});  // the run has ended: nothing left to cancel
      };
      st.forward_to_run<std::string>(a, self->make_response_promise(), ended,
                                     atoms::cancel::value, id, reason);
    },
    [=](atoms::wake, const std::string& id) { self->state.wake(id); },
    [=](atoms::release, const std::string& id, const std::string& reason) {
      self->state.release(id, reason, self->make_response_promise());
    },
    [=](atoms::wait, const std::string& id) {
      auto& st = self->state;
      auto rp = self->make_response_promise();
      auto outcome = read_outcome(*st.env.store, id);
      if (!outcome) {
        bool starting = st.active.count(id) > 0 || st.queued_ids.count(id) > 0;
        if (!starting || outcome.error().code != errc::not_found)
          return rp.deliver(caf::make_error(caf::sec::runtime_error, outcome.error().message));
      } else if (is_terminal(outcome->status) || outcome->status == run_status::quarantined) {
        return rp.deliver(static_cast<std::uint8_t>(outcome->status), outcome->result,
                          outcome->error);
      }
      st.waiters[id].push_back(rp);
    },
    [=](atoms::finished, const std::string& id, std::uint8_t status, const std::string& result,
        const std::string& error) {
      self->state.restarts.erase(id);
      self->state.notify(id, {status, result, error});
    },
    [=](atoms::recover) {
      auto& st = self->state;
      if (auto runs = st.env.store->list_runs(run_status::running))
        for (auto& r : *runs)
          st.recovery.push_back(r.id);
      st.tick();
    },
    [=](atoms::tick) { self->state.tick(); },
  };
}

} // namespace

caf::actor spawn_run_manager(caf::local_actor& parent, run_env env, manager_options opts) {
  return parent.spawn(run_manager, std::move(env), opts);
}

} // namespace endure::detail
