// The runtime as an actor service: the messages runtime::handle() accepts,
// the events it sends to subscribers, and the names the runtime's actors
// are registered under. An event-based actor uses them with
// request(...).then(...) and never blocks:
//
//   self->request(rt->handle(), caf::infinite, service::start_atom::value,
//                 "pipeline", "order-42", to_bytes(order))
//     .then([](const run_meta& run) { ... },
//           [](const caf::error& e) { auto why = service::error_of(e, "start"); });
//
// Requests and what they answer (an error is a caf::error of category
// "endure" carrying endure's errc and a message; service::error_of turns
// it into an endure::error):
//
//   (start_atom, workflow, run id, input msgpack bytes) -> run_meta
//       Starts the run, or attaches to the run of that id (idempotent);
//       answers once the run is durable. Errors: invalid_argument (bad
//       run id), not_found (no such workflow), the journal's write errors.
//   (signal_atom, run id, name, payload msgpack bytes [, request id])
//       -> caf::ok_atom. Journaled before the answer; consumed once by a
//       wait_signal. Errors: not_found, invalid_state (the run has ended).
//       A caller that may send it again (answer lost: timeout, shut_down)
//       passes its own request id: journaled once; already_exists when a
//       signal with another payload was journaled under that id.
//   (cancel_atom, run id, reason) -> caf::ok_atom
//   (release_atom, run id, reason) -> caf::ok_atom
//       Asked once: if the run supervisor stops with one in hand, the
//       answer is shut_down and the journal tells whether it took effect.
//   (status_atom, run id) -> run_meta          as the journal has it now
//   (wait_atom, run id, timeout ms as int64) -> run_outcome
//       Answers when the run completes, fails, is cancelled or is
//       quarantined. Errors: timeout (not ended within the time; nothing
//       is left behind), not_found.
//   (usage_atom, run id) -> run_usage          tokens and cost of its LLM steps
//   (subscribe_atom, subscriber actor, bool steps) -> caf::ok_atom
//       From now on, until the subscriber stops (it is monitored) or sends
//       (unsubscribe_atom, itself): run_changed, and with `steps` also
//       step_changed, and the human gateway's request_changed, each as
//       (event_atom, EVENT) in the order the runtime publishes them (see
//       run_event_feed.hpp: events are hints to refetch, the journal is the
//       truth). Subscribing again changes `steps`.
//   (unsubscribe_atom, subscriber actor) -> caf::ok_atom
//   (decide_atom, request id, principal, decision, payload JSON, channel)
//       -> std::string: runtime::decide by message.
//
// Every request is answered exactly once, also when the runtime shuts down
// or its supervision tree gave up (errc::shut_down). While the tree
// restarts the run supervisor, start, signal and wait ask the new one (for
// up to 5 s; a wait until its own deadline, then timeout).
//
// Names: the handle, the human gateway and the escalation actor are put in
// the actor system's registry (caf::actor_system::registry()) under
// runtime_name, gateway_name and escalation_name while the runtime is open
// (a restarted gateway under the same name). With several runtimes in one
// actor system the names stay with the one that took them first.
// The gateway and the escalation actor speak the messages documented in
// actors/atoms.hpp (decide, subscribe; esc_assess, esc_outcome, esc_stats).
//
// The message types are plain data with CAF inspect() overloads below; a
// program that sends them to another node registers them once with
// add_message_types(cfg) before its actor system starts.
#pragma once

#include <string>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/run_outcome.hpp"
#include "endure/actors/run_usage.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::service {

using start_atom = caf::atom_constant<caf::atom("rt_start")>;
using signal_atom = caf::atom_constant<caf::atom("rt_signal")>;
using cancel_atom = caf::atom_constant<caf::atom("rt_cancel")>;
using release_atom = caf::atom_constant<caf::atom("rt_release")>;
using status_atom = caf::atom_constant<caf::atom("rt_status")>;
using wait_atom = caf::atom_constant<caf::atom("rt_wait")>;
using usage_atom = caf::atom_constant<caf::atom("rt_usage")>;
using subscribe_atom = caf::atom_constant<caf::atom("rt_sub")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("rt_unsub")>;
using decide_atom = caf::atom_constant<caf::atom("rt_decide")>;
/// First element of every event a subscriber receives.
using event_atom = caf::atom_constant<caf::atom("rt_event")>;

/// Registry names (caf::actor_system::registry().get(name)).
inline constexpr caf::atom_value runtime_name = caf::atom("endure");
inline constexpr caf::atom_value gateway_name = caf::atom("endure_gw");
inline constexpr caf::atom_value escalation_name = caf::atom("endure_esc");

/// Registers the message types above with CAF's serialization, so they
/// can travel between nodes. Call before the actor system starts.
void add_message_types(caf::actor_system_config& cfg);

/// A caf::error from a request as an endure::error: category "endure"
/// keeps its code and message; anything else from CAF (a timeout, the
/// receiver is gone) becomes timeout or shut_down, described after `what`.
error error_of(const caf::error& e, std::string_view what);

} // namespace endure::service

namespace endure {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_meta& x) {
  return f(caf::meta::type_name("endure.run_meta"), x.id, x.workflow, x.status, x.created_at_ms,
           x.updated_at_ms, x.detail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_outcome& x) {
  return f(caf::meta::type_name("endure.run_outcome"), x.status, x.result, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_usage& x) {
  return f(caf::meta::type_name("endure.step_usage"), x.prompt_tokens, x.completion_tokens,
           x.cost_usd, x.model);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_usage_entry& x) {
  return f(caf::meta::type_name("endure.step_usage_entry"), x.step, x.name, x.usage);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_usage& x) {
  return f(caf::meta::type_name("endure.run_usage"), x.steps, x.prompt_tokens,
           x.completion_tokens, x.cost_usd);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_changed& x) {
  return f(caf::meta::type_name("endure.run_changed"), x.run, x.workflow, x.status, x.detail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_changed& x) {
  return f(caf::meta::type_name("endure.step_changed"), x.run, x.step, x.name, x.attempt,
           x.outcome);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_changed& x) {
  return f(caf::meta::type_name("endure.request_changed"), x.kind, x.request, x.run, x.detail);
}

} // namespace endure
