// runtime: wiring of journal, activity pool and run manager; blocking calls
// are CAF requests from a scoped actor.
#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include <future>
#include <thread>

#include "actors/activity_pool.hpp"
#include "actors/atoms.hpp"
#include "actors/detail/run_manager.hpp"
#include "actors/detail/step_services.hpp"
#include "actors/events.hpp"

namespace endure {

struct runtime::impl {
  caf::actor_system* sys = nullptr;
  runtime_options opts;
  workflow_registry workflows;
  std::unique_ptr<journal> store;
  std::unique_ptr<activity_pool> pool;
  detail::run_counters counters;
  std::unique_ptr<detail::step_services> services;  // ctx.llm, ctx.http
  caf::actor manager;
};

namespace {

error caf_failure(const caf::actor_system& sys, const caf::error& e, const std::string& what) {
  return make_error(errc::shut_down, what + ": " + sys.render(e));
}

} // namespace

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

expected<std::unique_ptr<runtime>> runtime::open(caf::actor_system& sys, runtime_options opts,
                                                 workflow_registry workflows) {
  auto p = std::make_unique<impl>();
  p->sys = &sys;
  p->opts = std::move(opts);
  p->workflows = std::move(workflows);
  auto store = journal::open(p->opts.journal);
  if (!store)
    return std::move(store).error();
  p->store = std::move(*store);
  register_event_types(p->store->types());
  p->pool = std::make_unique<activity_pool>(p->opts.activity_threads);
  detail::run_env env;
  env.store = p->store.get();
  env.pool = p->pool.get();
  env.workflows = &p->workflows;
  env.counters = &p->counters;
  p->services = std::make_unique<detail::step_services>(p->opts.llm, p->opts.http);
  env.services = p->services.get();
  env.limits.max_step_crashes = p->opts.max_step_crashes;
  env.limits.passivate_after = p->opts.passivate_after;
  detail::manager_options mo;
  mo.max_active = p->opts.max_active_runs;
  mo.recovery_batch = p->opts.recovery_batch;
  mo.max_actor_restarts = p->opts.max_actor_restarts;
  p->manager = detail::spawn_run_manager(sys, std::move(env), mo);
  if (p->opts.resume_on_open)
    caf::anon_send(p->manager, atoms::recover::value);
  return std::unique_ptr<runtime>{new runtime(std::move(p))};
}

runtime::~runtime() {
  // Order (PITFALLS): actors, then the pool's threads, then the journal.
  caf::anon_send_exit(impl_->manager, caf::exit_reason::user_shutdown);
  {
    caf::scoped_actor self{*impl_->sys};
    self->wait_for(impl_->manager);
  }
  for (int i = 0; i < 5000 && impl_->counters.live_actors.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->pool.reset();
  impl_->store.reset();
}

expected<run_status> runtime::start_raw(const std::string& workflow, const std::string& run_id,
                                        std::string input) {
  std::promise<expected<run_status>> reply;
  auto status = reply.get_future();
  start_async(workflow, run_id, std::move(input),
              [&reply](expected<run_status> r) { reply.set_value(std::move(r)); });
  return status.get();
}

void runtime::start_async(const std::string& workflow, const std::string& run_id,
                          std::string input, std::function<void(expected<run_status>)> done) {
  if (auto ok = validate_run_id(run_id); !ok)
    return done(std::move(ok).error());
  if (!impl_->workflows.find(workflow))
    return done(make_error(errc::not_found, "no workflow named '" + workflow + "' is registered"));
  auto* sys = impl_->sys;
  sys->spawn([=, manager = impl_->manager, input = std::move(input)](caf::event_based_actor* self) {
    self->request(manager, caf::infinite, atoms::start::value, run_id, workflow, input)
      .then([=](std::uint8_t status) { done(static_cast<run_status>(status)); },
            [=](const caf::error& e) { done(caf_failure(*sys, e, "start " + run_id)); });
  });
}

expected<run_outcome> runtime::wait(const std::string& run_id,
                                    std::chrono::milliseconds timeout) {
  caf::scoped_actor self{*impl_->sys};
  expected<run_outcome> out = make_error(errc::shut_down, "no reply");
  self->request(impl_->manager, timeout, atoms::wait::value, run_id)
    .receive(
      [&](std::uint8_t status, std::string& result, std::string& error) {
        out = run_outcome{static_cast<run_status>(status), std::move(result), std::move(error)};
      },
      [&](const caf::error& e) {
        out = e == caf::sec::request_timeout
                ? make_error(errc::shut_down, "run " + run_id + " did not finish within "
                                                + std::to_string(timeout.count()) + " ms")
                : caf_failure(*impl_->sys, e, "wait for " + run_id);
      });
  return out;
}

namespace {

expected<void> text_reply(caf::actor_system& sys, const caf::actor& manager,
                          caf::message msg) {
  caf::scoped_actor self{sys};
  expected<void> out;
  self->request(manager, caf::infinite, std::move(msg))
    .receive(
      [&](const std::string& err) {
        if (!err.empty())
          out = make_error(errc::not_found, err);
      },
      [&](const caf::error& e) { out = make_error(errc::shut_down, sys.render(e)); });
  return out;
}

} // namespace

expected<void> runtime::signal_raw(const std::string& run_id, const std::string& name,
                                   std::string payload) {
  return text_reply(*impl_->sys, impl_->manager,
                    caf::make_message(atoms::signal::value, run_id, name, std::move(payload)));
}

expected<void> runtime::cancel(const std::string& run_id, const std::string& reason) {
  return text_reply(*impl_->sys, impl_->manager,
                    caf::make_message(atoms::cancel::value, run_id, reason));
}

expected<void> runtime::release(const std::string& run_id, const std::string& reason) {
  return text_reply(*impl_->sys, impl_->manager,
                    caf::make_message(atoms::release::value, run_id, reason));
}

const journal& runtime::store() const noexcept { return *impl_->store; }
const workflow_registry& runtime::workflows() const noexcept { return impl_->workflows; }

runtime_stats runtime::stats() const {
  auto& c = impl_->counters;
  return {c.steps_executed.load(), c.steps_replayed.load(), c.retries.load(),
          c.live_actors.load()};
}

} // namespace endure
