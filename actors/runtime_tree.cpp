// The runtime's supervision tree (see detail/runtime_tree.hpp).
#include "endure/actors/detail/runtime_tree.hpp"

#include <caf/all.hpp>

#include "endure/actors/activity_pool.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/detail/timer_service.hpp"
#include "endure/actors/escalation/detail/escalation_actor.hpp"
#include "endure/actors/gateway/detail/human_gateway.hpp"
#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/supervisor.hpp"

namespace endure::detail {

namespace {

struct workers_state {
  std::shared_ptr<activity_pool> pool;
};

/// Owns the activity pool. Detached, because dropping the pool joins its
/// threads, which waits for the step bodies in flight; run actors hold the
/// pool too, so it outlives the last of them.
caf::behavior activity_workers(caf::stateful_actor<workers_state>* self,
                               std::shared_ptr<activity_pool> pool, std::size_t threads) {
  exit_on_exception(self);
  self->state.pool = std::move(pool);
  // An actor with an empty behavior would quit at once; this one answers
  // how many threads it runs, and otherwise only lives to own the pool.
  return {
    [=](caf::get_atom) { return static_cast<std::uint64_t>(threads); },
  };
}

child_spec workers_child(runtime_services& services) {
  child_spec spec;
  spec.id = "activity_workers";
  spec.start = [&services](caf::local_actor& sup) {
    // Made here, on the supervisor's thread, so that the run supervisor
    // started next finds it published.
    // The run actors already waited shutdown_timeout for their attempts
    // (the pool stops after them): what still runs here was abandoned, and
    // gets only a short grace, so shutdown takes about shutdown_timeout.
    auto grace = std::min(services.env.limits.shutdown_timeout,
                          std::chrono::milliseconds{100});
    auto pool = std::make_shared<activity_pool>(services.activity_threads, grace);
    services.publish_pool(pool);
    return sup.spawn<caf::detached>(activity_workers, std::move(pool),
                                    services.activity_threads);
  };
  spec.shutdown = shutdown_policy::infinity();  // step bodies finish
  return spec;
}

child_spec runs_child(runtime_services& services) {
  child_spec spec;
  spec.id = "runs";
  spec.type = child_type::supervisor;
  spec.start = [&services](caf::local_actor& sup) {
    auto env = services.env;
    env.pool = services.pool();
    auto opts = services.runs;
    // A replacement resumes what its predecessor had in hand, behind a
    // barrier for the commits that predecessor's runs left queued.
    auto first = services.runs_actor() == nullptr;
    opts.recover = services.resume_on_open || !first;
    opts.barrier_all = !first;
    auto runs = spawn_run_manager(sup, std::move(env), opts);
    services.publish_runs(runs);
    return runs;
  };
  // Its run actors get shutdown_timeout to finish the attempts in flight;
  // the margin is for journaling what they abandon.
  spec.shutdown = shutdown_policy::after(services.env.limits.shutdown_timeout
                                         + std::chrono::seconds{5});
  return spec;
}

child_spec gateway_child(runtime_services& services, const agent::tool_registry* tools) {
  child_spec spec;
  spec.id = "human_gateway";
  spec.start = [&services, tools](caf::local_actor& sup) {
    auto gateway = spawn_human_gateway(sup, {services.env.store, tools, &services});
    services.publish_gateway(gateway);
    return gateway;
  };
  spec.shutdown = shutdown_policy::after(std::chrono::seconds{1});
  return spec;
}

child_spec escalation_child(runtime_services& services) {
  child_spec spec;
  spec.id = "escalation";
  spec.start = [&services](caf::local_actor& sup) {
    auto actor = spawn_escalation_actor(sup, *services.env.store, *services.escalation);
    services.publish_escalation(actor);
    return actor;
  };
  spec.shutdown = shutdown_policy::after(std::chrono::seconds{5});
  return spec;
}

child_spec timers_child(runtime_services& services) {
  child_spec spec;
  spec.id = "timer_service";
  spec.start = [&services](caf::local_actor& sup) {
    return spawn_timer_service(sup, *services.env.store, services.runs_actor(), {});
  };
  spec.shutdown = shutdown_policy::after(std::chrono::seconds{1});
  return spec;
}

} // namespace

expected<caf::actor> spawn_runtime_tree(caf::actor_system& sys, runtime_services& services) {
  supervisor_flags flags;
  flags.strategy = restart_strategy::rest_for_one;
  flags.intensity = 3;
  flags.period = std::chrono::seconds{10};
  flags.backoff.initial = std::chrono::milliseconds{10};
  flags.backoff.max = std::chrono::seconds{1};
  std::vector<child_spec> children{workers_child(services), runs_child(services),
                                  gateway_child(services, services.tools)};
  if (services.escalation)
    children.push_back(escalation_child(services));
  children.push_back(timers_child(services));
  return spawn_supervisor(sys, flags, std::move(children));
}

} // namespace endure::detail
