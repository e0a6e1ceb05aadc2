// runtime: the journal plus the supervision tree; blocking calls are CAF
// requests from a scoped actor to the runtime's handle (the service actor,
// service/runtime_handle.cpp; decide: to the human gateway itself).
#include "endure/actors/runtime.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <future>
#include <thread>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/random_source.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/detail/runtime_tree.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/service/detail/registered_names.hpp"
#include "endure/actors/service/detail/runtime_handle.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/actors/state/memory_store.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/atoms.hpp"
#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/validate.hpp"

namespace endure {

struct runtime::impl {
  caf::actor_system* sys = nullptr;
  runtime_options opts;
  workflow_registry workflows;
  std::unique_ptr<journal> store;
  std::unique_ptr<state::memory_store> memory;  // before the journal closes
  detail::run_counters counters;
  run_event_feed events;  // outlives the tree: its actors publish to it
  std::unique_ptr<detail::step_services> steps;  // ctx.llm, ctx.http
  detail::runtime_services services;
  caf::actor root;
  /// The service actor (runtime::handle()); stopped after the tree.
  caf::actor handle;
  std::atomic<bool> stopping{false};
};

namespace {

/// Waits until the root supervisor has started its children (it starts
/// them before it reads its first message) or has given up starting them.
expected<void> await_tree(caf::actor_system& sys, const caf::actor& root) {
  caf::scoped_actor self{sys};
  expected<void> out;
  self->request(root, caf::infinite, count_atom::value)
    .receive([](std::uint64_t) {},
             [&](const caf::error& e) {
               out = make_error(errc::shut_down,
                                "the runtime's supervision tree did not start: " + describe(e));
             });
  return out;
}

/// How a run's escalation step asks the escalation actor: blocking, on an
/// activity thread.
detail::step_services::escalation_fn escalation_caller(caf::actor_system& sys,
                                                       detail::runtime_services* services) {
  using call = detail::step_services::escalation_call;
  return [&sys, services](call what, const std::string& key,
                          const std::string& body) -> expected<std::string> {
    auto actor = services->escalation_actor();
    if (!actor)
      return make_error(errc::shut_down, "decision " + key + ": the escalation actor is not running");
    caf::scoped_actor self{sys};
    expected<std::string> out = make_error(errc::shut_down, "decision " + key);
    auto answer = [&](std::string& text) { out = std::move(text); };
    auto failed = [&](const caf::error& e) {
      out = detail::from_caf_error(e, "the escalation actor, decision " + key);
    };
    // Bounded, so a stuck actor costs a retry of the step, not an activity
    // thread forever; a restore of a million inputs takes ~6 s.
    constexpr auto limit = std::chrono::seconds{60};
    if (what == call::assess)
      self->request(actor, limit, atoms::esc_assess::value, key, body).receive(answer, failed);
    else
      self->request(actor, limit, atoms::esc_outcome::value, key, body).receive(answer, failed);
    return out;
  };
}

} // namespace

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

expected<std::unique_ptr<runtime>> runtime::open(caf::actor_system& sys, runtime_options opts,
                                                 workflow_registry workflows) {
  auto& restarts = opts.run_restarts;
  if (restarts.intensity < 0)
    return make_error(errc::invalid_argument, "run_restarts.intensity: must not be negative");
  if (restarts.period.count() <= 0)
    return make_error(errc::invalid_argument, "run_restarts.period: must be positive");
  if (auto ok = validate(restarts.backoff, "run_restarts.backoff"); !ok)
    return std::move(ok).error();
  auto p = std::make_unique<impl>();
  p->sys = &sys;
  p->opts = std::move(opts);
  p->workflows = std::move(workflows);
  auto store = journal::open(p->opts.journal);
  if (!store)
    return std::move(store).error();
  p->store = std::move(*store);
  register_event_types(p->store->types());
  auto& env = p->services.env;
  env.store = p->store.get();
  env.workflows = &p->workflows;
  env.counters = &p->counters;
  env.events = &p->events;
  p->steps = std::make_unique<detail::step_services>(p->opts.llm, p->opts.http, p->opts.tools);
  env.services = p->steps.get();
  p->services.tools = p->opts.tools.get();
  auto* services = &p->services;
  auto raised = [services](const std::string& id) {
    if (auto gateway = services->gateway_actor())
      caf::anon_send(gateway, atoms::raised::value, id);
  };
  // Called on an activity thread by a run's deadline step: blocking there
  // is what activity threads are for.
  auto deadline = [&sys, services](const std::string& id) -> expected<std::string> {
    auto gateway = services->gateway_actor();
    if (!gateway)
      return make_error(errc::shut_down, "request " + id + ": the human gateway is not running");
    caf::scoped_actor self{sys};
    expected<std::string> out = make_error(errc::shut_down, "deadline of request " + id);
    self->request(gateway, caf::infinite, atoms::deadline::value, id)
      .receive([&](std::string& answer) { out = std::move(answer); },
               [&](const caf::error& e) {
                 out = detail::from_caf_error(e, "the deadline of request " + id);
               });
    return out;
  };
  auto ended = [services](const std::string& run_id, run_status status) {
    if (auto gateway = services->gateway_actor())
      caf::anon_send(gateway, atoms::run_ended::value, run_id, static_cast<std::uint8_t>(status));
  };
  p->steps->set_gate(p->opts.policy.get(), p->store.get(), raised, deadline, ended);
  if (p->opts.escalation) {
    p->services.escalation = p->opts.escalation.get();
    p->steps->set_escalation(escalation_caller(sys, services));
  }
  if (p->opts.memory) {
    auto memory = state::memory_store::open(*p->store, *p->opts.memory);
    if (!memory)
      return std::move(memory).error();
    p->memory = std::move(*memory);
    p->steps->set_memory(p->memory.get());
  }
  env.limits.max_step_crashes = p->opts.max_step_crashes;
  env.limits.passivate_after = p->opts.passivate_after;
  if (p->opts.shutdown_timeout.count() < 0)
    return make_error(errc::invalid_argument, "shutdown_timeout: must not be negative");
  env.limits.shutdown_timeout = p->opts.shutdown_timeout;
  auto& runs = p->services.runs;
  runs.max_active = p->opts.max_active_runs;
  runs.recovery_batch = p->opts.recovery_batch;
  runs.restart_intensity = restarts.intensity;
  runs.restart_period = restarts.period;
  runs.restart_backoff = restarts.backoff;
  runs.trim_after_stops = p->opts.trim_heap_after_stops;
  p->services.activity_threads = p->opts.activity_threads;
  p->services.resume_on_open = p->opts.resume_on_open;
  p->services.registry_of = &sys;
  auto root = detail::spawn_runtime_tree(sys, p->services);
  if (!root)
    return std::move(root).error();
  p->root = std::move(*root);
  if (auto up = await_tree(sys, p->root); !up)
    return std::move(up).error();
  p->handle = service::detail::spawn_runtime_handle(
    sys, {&p->services, p->store.get(), &p->workflows, &p->events, &p->stopping, p->root});
  service::detail::register_actor(sys, service::runtime_name, p->handle);
  return std::unique_ptr<runtime>{new runtime(std::move(p))};
}

runtime::~runtime() {
  // The tree stops in reverse order (timers, runs, workers); then the
  // journal, which every one of them writes to.
  impl_->stopping = true;
  caf::anon_send_exit(impl_->root, caf::exit_reason::user_shutdown);
  {
    caf::scoped_actor self{*impl_->sys};
    self->wait_for(impl_->root);
    // After the tree: requests in flight got their answers or shut_down.
    if (impl_->handle) {
      service::detail::unregister_actor(*impl_->sys, service::runtime_name, impl_->handle);
      self->send_exit(impl_->handle, caf::exit_reason::user_shutdown);
      self->wait_for(impl_->handle);
    }
    impl_->services.unregister_names();
  }
  if (impl_->memory)  // the next open then inserts nothing again
    if (auto saved = impl_->memory->checkpoint(true); !saved)
      log::error("runtime: the memory store's graph checkpoint at shutdown failed: " +
                 saved.error().to_string());
  impl_->memory.reset();
  impl_->store.reset();
}

namespace {

/// CAF's form of an answer_limit (runtime.hpp): no_answer_limit is infinite.
caf::duration caf_limit(std::chrono::milliseconds limit) {
  if (limit == no_answer_limit)
    return caf::duration{caf::infinite};
  return caf::duration{std::max(limit, std::chrono::milliseconds{1})};
}

/// Asks `handle` (the runtime's, or a tree child), blocking: the answer as
/// T, or the refusal.
template <class T>
expected<T> ask(caf::actor_system& sys, const caf::actor& handle, caf::duration limit,
                caf::message msg, const std::string& what) {
  caf::scoped_actor self{sys};
  expected<T> out = make_error(errc::shut_down, what + ": no answer from the runtime");
  self->request(handle, limit, std::move(msg))
    .receive([&](T& answer) { out = std::move(answer); },
             [&](const caf::error& e) { out = detail::from_caf_error(e, what); });
  return out;
}

expected<void> ask_ok(caf::actor_system& sys, const caf::actor& handle,
                      std::chrono::milliseconds limit, caf::message msg, const std::string& what) {
  if (auto ok = ask<caf::ok_atom>(sys, handle, caf_limit(limit), std::move(msg), what); !ok)
    return std::move(ok).error();
  return {};
}

} // namespace

expected<run_status> runtime::start_raw(const std::string& workflow, const std::string& run_id,
                                        std::string input) {
  auto run = ask<run_meta>(*impl_->sys, impl_->handle, caf::duration{caf::infinite},
                           caf::make_message(service::start_atom::value, workflow, run_id,
                                             std::move(input)),
                           "start " + run_id);
  if (!run)
    return std::move(run).error();
  return run->status;
}

void runtime::start_async(const std::string& workflow, const std::string& run_id,
                          std::string input, std::function<void(expected<run_status>)> done) {
  impl_->sys->spawn([=, handle = impl_->handle, input = std::move(input)](
                      caf::event_based_actor* self) {
    self->request(handle, caf::infinite, service::start_atom::value, workflow, run_id, input)
      .then([=](const run_meta& run) { done(run.status); },
            [=](const caf::error& e) { done(detail::from_caf_error(e, "start " + run_id)); });
  });
}

expected<run_outcome> runtime::wait(const std::string& run_id,
                                    std::chrono::milliseconds timeout) {
  // The handle keeps the deadline, also across a restart of the run
  // supervisor; timeout is answered as an error.
  return ask<run_outcome>(*impl_->sys, impl_->handle, caf::duration{caf::infinite},
                          caf::make_message(service::wait_atom::value, run_id,
                                            static_cast<std::int64_t>(timeout.count())),
                          "wait for " + run_id);
}

expected<void> runtime::signal_raw(const std::string& run_id, const std::string& name,
                                   std::string payload, std::chrono::milliseconds answer_limit) {
  return ask_ok(*impl_->sys, impl_->handle, answer_limit,
                caf::make_message(service::signal_atom::value, run_id, name, std::move(payload)),
                "signal " + name + " to run " + run_id);
}

expected<std::string> runtime::decide(const std::string& request_id, const std::string& principal,
                                      const std::string& decision, const std::string& payload_json,
                                      const std::string& channel,
                                      std::chrono::milliseconds answer_limit) {
  // Straight to the gateway, not through the handle (which only forwards):
  // a thread hand-off fewer before the decision reaches its run.
  auto what = "decide request " + request_id;
  auto gateway = impl_->services.gateway_actor();
  if (!gateway || impl_->stopping)
    return make_error(errc::shut_down, what + ": the runtime is not running");
  return ask<std::string>(*impl_->sys, gateway, caf_limit(answer_limit),
                          caf::make_message(atoms::decide::value, request_id, principal, decision,
                                            payload_json, channel),
                          what);
}

expected<void> runtime::subscribe_requests(const caf::actor& subscriber) {
  auto gateway = impl_->services.gateway_actor();
  if (!gateway || impl_->stopping)
    return make_error(errc::shut_down, "subscribe to requests: the runtime is not running");
  caf::anon_send(gateway, atoms::subscribe::value, subscriber);
  return {};
}

expected<void> runtime::cancel(const std::string& run_id, const std::string& reason,
                               std::chrono::milliseconds answer_limit) {
  return ask_ok(*impl_->sys, impl_->handle, answer_limit,
                caf::make_message(service::cancel_atom::value, run_id, reason),
                "cancel run " + run_id);
}

expected<void> runtime::release(const std::string& run_id, const std::string& reason,
                                std::chrono::milliseconds answer_limit) {
  return ask_ok(*impl_->sys, impl_->handle, answer_limit,
                caf::make_message(service::release_atom::value, run_id, reason),
                "release run " + run_id);
}

caf::actor runtime::handle() const { return impl_->handle; }
const journal& runtime::store() const noexcept { return *impl_->store; }
caf::actor runtime::supervisor() const { return impl_->root; }
const workflow_registry& runtime::workflows() const noexcept { return impl_->workflows; }
run_event_feed& runtime::events() noexcept { return impl_->events; }

runtime_stats runtime::stats() const {
  auto& c = impl_->counters;
  return {c.steps_executed.load(), c.steps_replayed.load(), c.retries.load(),
          c.live_actors.load(), c.waits.load()};
}

namespace {

template <std::size_t N>
std::array<std::uint64_t, N> values(const std::array<metrics::counter, N>& counters) {
  std::array<std::uint64_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = counters[i].value();
  return out;
}

} // namespace

runtime_metrics runtime::metrics() const {
  auto& in = impl_->counters.instruments;
  runtime_metrics m;
  m.steps_completed = in.steps_completed.value();
  m.steps_failed = values(in.steps_failed);
  m.retries = values(in.retries);
  m.step_seconds = in.step_seconds.snapshot();
  m.live_run_actors = impl_->counters.live_actors.load(std::memory_order_relaxed);
  m.decisions = values(in.decisions);
  m.decision_seconds = in.decision_seconds.snapshot();
  // None while the gateway's start (re)builds the index: a count then
  // would be short.
  if (auto complete = gateway::index_complete(*impl_->store); complete && *complete)
    if (auto pending = impl_->store->count_rows(side_table::pending_requests, ""))
      m.pending_requests = *pending;
  if (auto j = impl_->store->metrics())
    m.journal = std::move(*j);
  return m;
}

} // namespace endure
