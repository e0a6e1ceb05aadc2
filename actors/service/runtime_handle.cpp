// The runtime's service actor (service/detail/runtime_handle.hpp): one
// handler per request of service/protocol.hpp. Requests for runs go to the
// current run supervisor and are asked again while the tree restarts it;
// every request is answered through a guarded_reply, so a handle stopped
// with a request in hand still answers it (shut_down).
#include "endure/actors/service/detail/runtime_handle.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>
#include <variant>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/guarded_reply.hpp"
#include "endure/actors/detail/random_source.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/actors/workflow_registry.hpp"

namespace endure::service::detail {

namespace {

using clock = std::chrono::steady_clock;
using endure::detail::from_caf_error;
using endure::detail::guarded_reply;
using endure::detail::to_caf_error;
using retry_atom = caf::atom_constant<caf::atom("rt_retry")>;

/// How long a request waits for a run supervisor the tree is restarting,
/// and how soon it first asks again.
constexpr auto restart_patience = std::chrono::seconds{5};
constexpr auto restart_poll = std::chrono::milliseconds{20};

struct handle_state {
  static inline const char* name = "endure.runtime_handle";
  caf::stateful_actor<handle_state>* self = nullptr;
  handle_env env;
  /// Requests waiting to ask a restarted run supervisor, by retry token.
  std::unordered_map<std::uint64_t, std::function<void()>> retries;
  std::uint64_t next_retry = 1;
  /// The supervision tree gave up (its root is down): nothing to ask.
  bool tree_down = false;
  /// Subscribers by address; the subscription ends with the entry.
  std::unordered_map<caf::actor_addr, run_event_feed::subscription> subscribers;

  bool stopping() const { return env.stopping->load(std::memory_order_acquire); }

  /// What ask_runs does when the run supervisor goes away with a request.
  struct retry_rule {
    /// Ask the next supervisor until then; a time in the past: never.
    clock::time_point give_up;
    /// The answer once give_up has passed (wait: its timeout); else the
    /// supervisor's own error.
    std::optional<error> when_given_up;
  };

  /// True if `e` (the run supervisor's answer) means it stopped with the
  /// request in hand while the runtime goes on: the tree restarts it
  /// (rest_for_one after a crash of a sibling before it, or of itself).
  bool supervisor_restarting(const caf::error& e) const {
    if (stopping() || tree_down)
      return false;
    if (e == caf::sec::request_receiver_down)
      return true;
    return e.category() == caf::detail::error_factory<errc>::category
           && static_cast<errc>(e.code()) == errc::shut_down;
  }

  /// Sends make() to the current run supervisor and hands its answer to
  /// `on_answer`; while the tree restarts the supervisor, asks the next
  /// one (backing off from 20 ms to 1 s) as `rule` says.
  template <class MakeMessage, class OnAnswer>
  void ask_runs(MakeMessage make, OnAnswer on_answer, guarded_reply reply, std::string what,
                retry_rule rule, std::chrono::milliseconds poll = restart_poll) {
    auto runs = env.services->runs_actor();
    if (!runs || stopping() || tree_down)
      return reply.deliver(to_caf_error(errc::shut_down, what + ": the runtime is not running"));
    self->request(runs, caf::infinite, make())
      .then(on_answer, [=, this](caf::error& e) {
        if (!supervisor_restarting(e))
          return reply.deliver(to_caf_error(from_caf_error(e, what)));
        if (clock::now() >= rule.give_up)
          return reply.deliver(rule.when_given_up ? to_caf_error(*rule.when_given_up)
                                                  : to_caf_error(from_caf_error(e, what)));
        auto token = next_retry++;
        auto next = std::min(poll * 2, std::chrono::milliseconds{1000});
        retries.emplace(token, [=, this] { ask_runs(make, on_answer, reply, what, rule, next); });
        self->delayed_send(self, poll, retry_atom::value, token);
      });
  }

  /// Asks once, for requests that are not safe to repeat (cancel, release:
  /// a repeat after a supervisor that did it died unanswered would be
  /// refused as done already). Answer: ok_atom.
  void ask_runs_once(caf::message msg, guarded_reply reply, std::string what) {
    ask_runs([msg] { return msg; }, [reply](caf::ok_atom) { reply.deliver(caf::ok_atom::value); },
             reply, std::move(what), retry_rule{clock::time_point::min(), std::nullopt});
  }

  void start(const std::string& workflow, const std::string& id, const std::string& input,
             guarded_reply reply) {
    if (auto ok = validate_run_id(id); !ok)
      return reply.deliver(to_caf_error(ok.error()));
    if (!env.workflows->find(workflow))
      return reply.deliver(to_caf_error(
        errc::not_found, "no workflow named '" + workflow + "' is registered"));
    auto msg = caf::make_message(atoms::start::value, id, workflow, input);
    const journal* store = env.store;
    ask_runs([msg] { return msg; },
             [=](std::uint8_t status) {
               auto meta = store->run(id);
               if (!meta) {  // the run is durable; its row read failed: say what we know
                 run_meta known;
                 known.id = id;
                 known.workflow = workflow;
                 meta = std::move(known);
               }
               meta->status = static_cast<run_status>(status);
               reply.deliver(std::move(*meta));
             },
             reply, "start " + id, retry_rule{clock::now() + restart_patience, std::nullopt});
  }

  /// `request_id` makes a repeated signal (after an answer that did not
  /// arrive) journal once; every attempt of the handle uses the same one.
  void signal(const std::string& id, const std::string& name, const std::string& payload,
              const std::string& request_id, guarded_reply reply) {
    // A run takes a signal of a delivery id as the human gateway's decision
    // on a request (actors/gateway/human_request.hpp): only the gateway may
    // send one, or any client could approve a gated call.
    if (auto reserved = gateway::delivery_id(""); request_id.starts_with(reserved))
      return reply.deliver(to_caf_error(
        errc::invalid_argument,
        "signal " + name + " to run " + id + ": request id '" + request_id + "' is reserved ('"
          + reserved + "' ids carry the human gateway's decisions); decide a request with "
          "decide_atom to the gateway (runtime::decide, `endure approve`), and give a signal "
          "another request id"));
    auto msg = caf::make_message(atoms::signal::value, id, name, payload,
                                 request_id.empty() ? endure::detail::random_uuid() : request_id);
    ask_runs([msg] { return msg; }, [reply](caf::ok_atom) { reply.deliver(caf::ok_atom::value); },
             reply, "signal " + name + " to run " + id,
             retry_rule{clock::now() + restart_patience, std::nullopt});
  }

  void wait(const std::string& id, std::int64_t timeout_ms, guarded_reply reply) {
    // Capped at ten years, so "as long as it takes" does not overflow.
    constexpr std::int64_t longest = 10LL * 365 * 24 * 3600 * 1000;
    auto deadline = clock::now() + std::chrono::milliseconds{std::clamp<std::int64_t>(timeout_ms, 0, longest)};
    auto make = [=] {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
      return caf::make_message(atoms::wait::value, id,
                               static_cast<std::int64_t>(std::max<std::int64_t>(left.count(), 1)));
    };
    auto answer = [reply](std::uint8_t status, std::string& result, std::string& error) {
      reply.deliver(run_outcome{static_cast<run_status>(status), std::move(result),
                                std::move(error)});
    };
    auto timed_out = error{errc::timeout, "run " + id + " did not end within "
                                            + std::to_string(timeout_ms) + " ms"};
    ask_runs(make, answer, reply, "wait for " + id, retry_rule{deadline, std::move(timed_out)});
  }

  void status(const std::string& id, guarded_reply reply) {
    auto meta = env.store->run(id);
    if (!meta)
      return reply.deliver(to_caf_error(meta.error()));
    reply.deliver(std::move(*meta));
  }

  void usage(const std::string& id, guarded_reply reply) {
    auto used = read_run_usage(*env.store, id);
    if (!used)
      return reply.deliver(to_caf_error(used.error()));
    reply.deliver(std::move(*used));
  }

  void decide(const std::string& request, const std::string& principal,
              const std::string& decision, const std::string& payload,
              const std::string& channel, guarded_reply reply) {
    auto what = "decide request " + request;
    auto gateway = env.services->gateway_actor();
    if (!gateway || stopping())
      return reply.deliver(to_caf_error(errc::shut_down, what + ": the runtime is not running"));
    self->request(gateway, caf::infinite, atoms::decide::value, request, principal, decision,
                  payload, channel)
      .then([reply](std::string& verdict) { reply.deliver(std::move(verdict)); },
            [reply, what](caf::error& e) { reply.deliver(to_caf_error(from_caf_error(e, what))); });
  }

  void subscribe(const caf::actor& who, bool steps) {
    if (!who)
      return;
    auto addr = who.address();
    if (auto it = subscribers.find(addr); it != subscribers.end())
      return it->second.want_steps(steps);
    self->monitor(who);
    // Runs on the publisher's thread: only enqueue.
    auto forward = [who](const feed_event& e) {
      std::visit([&who](const auto& ev) { caf::anon_send(who, event_atom::value, ev); }, e);
    };
    subscribers.emplace(addr, env.feed->subscribe(std::move(forward), steps));
  }

  void unsubscribe(const caf::actor_addr& who) {
    if (subscribers.erase(who) > 0)
      self->demonitor(who);
  }
};

caf::behavior runtime_handle(caf::stateful_actor<handle_state>* self, handle_env env) {
  self->state.self = self;
  self->state.env = env;
  // The tree's root gives up only past its restart intensity: then nothing
  // will answer, so requests waiting to ask again are answered (shut_down,
  // by their guarded_reply) instead of polling a dead supervisor.
  self->monitor(env.root);
  self->set_down_handler([self, root = env.root.address()](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == root) {
      st.tree_down = true;
      st.retries.clear();
      return;
    }
    st.subscribers.erase(dm.source);
  });
  auto promise = [self] { return guarded_reply{self->make_response_promise()}; };
  auto& st = self->state;
  return {
    [=, &st](start_atom, const std::string& workflow, const std::string& id,
             const std::string& input) { st.start(workflow, id, input, promise()); },
    [=, &st](signal_atom, const std::string& id, const std::string& name,
             const std::string& payload) { st.signal(id, name, payload, {}, promise()); },
    [=, &st](signal_atom, const std::string& id, const std::string& name,
             const std::string& payload, const std::string& request_id) {
      st.signal(id, name, payload, request_id, promise());
    },
    [=, &st](cancel_atom, const std::string& id, const std::string& reason) {
      st.ask_runs_once(caf::make_message(atoms::cancel::value, id, reason), promise(),
                       "cancel run " + id);
    },
    [=, &st](release_atom, const std::string& id, const std::string& reason) {
      st.ask_runs_once(caf::make_message(atoms::release::value, id, reason), promise(),
                       "release run " + id);
    },
    [=, &st](status_atom, const std::string& id) { st.status(id, promise()); },
    [=, &st](wait_atom, const std::string& id, std::int64_t timeout_ms) {
      st.wait(id, timeout_ms, promise());
    },
    [=, &st](usage_atom, const std::string& id) { st.usage(id, promise()); },
    [=, &st](decide_atom, const std::string& request, const std::string& principal,
             const std::string& decision, const std::string& payload,
             const std::string& channel) {
      st.decide(request, principal, decision, payload, channel, promise());
    },
    [&st](subscribe_atom, const caf::actor& who, bool steps) {
      st.subscribe(who, steps);
      return caf::ok_atom::value;
    },
    [&st](unsubscribe_atom, const caf::actor& who) {
      st.unsubscribe(who.address());
      return caf::ok_atom::value;
    },
    [&st](retry_atom, std::uint64_t token) {
      auto it = st.retries.find(token);
      if (it == st.retries.end())
        return;
      auto again = std::move(it->second);
      st.retries.erase(it);
      again();
    },
  };
}

} // namespace

caf::actor spawn_runtime_handle(caf::actor_system& sys, handle_env env) {
  return sys.spawn(runtime_handle, env);
}

} // namespace endure::service::detail
