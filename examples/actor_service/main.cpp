// A CAF service of its own actors on top of endure, with no blocking call
// in any actor: everything goes through runtime::handle() as messages
// (actors/service/protocol.hpp). An order desk starts one durable run per
// order and waits for its outcome by request; a shipping clerk watches the
// runs' events and ships an order as soon as its run waits for the
// shipment. Run it again with the same data directory: the desk attaches
// to the runs of the same ids, which are done, and nothing runs twice.
//
//   actor_service_example [DATA_DIR] [ORDERS]
#include <caf/all.hpp>

#include <iostream>
#include <set>

#include "endure/actors/service/protocol.hpp"
#include "endure/endure.hpp"

namespace {

namespace svc = endure::service;
using order_atom = caf::atom_constant<caf::atom("order")>;
using all_done_atom = caf::atom_constant<caf::atom("all_done")>;

// One line to stdout in one write: actors print from several threads.
void say(const std::string& line) { std::cout << line + "\n" << std::flush; }

// The workflow: reserve stock, charge, wait (durably) for the shipment.
endure::task<std::string> fulfil_order(endure::context& ctx, int amount) {
  auto reserve = ctx.step("reserve", [](int n) { return n; }, amount);
  co_await std::move(reserve);
  auto charge = ctx.step("charge", [](int n) { return n * 100; }, amount);
  auto cents = co_await std::move(charge);
  auto tracking = co_await ctx.wait_signal<std::string>("shipped", std::chrono::hours(24));
  co_return "charged " + std::to_string(cents) + " cents, shipped as " + tracking.value_or("?");
}

// Ships an order whose run waits for its shipment: signals the run.
struct clerk_state {
  std::set<std::string> shipped;  // runs this process signalled
};

// Tells `subscribed` once it receives the runs' events: orders sent
// before that could start waiting unseen.
caf::behavior shipping_clerk(caf::stateful_actor<clerk_state>* self, caf::actor rt,
                             caf::actor subscribed) {
  self->request(rt, caf::infinite, svc::subscribe_atom::value, caf::actor{self}, false)
    .then([self, subscribed](caf::ok_atom) { self->send(subscribed, caf::ok_atom::value); },
          [self](const caf::error& e) {
            std::cerr << svc::error_of(e, "subscribe").message << "\n";
            self->quit(e);
          });
  auto ship = [self, rt](const std::string& run) {
    if (!self->state.shipped.insert(run).second)
      return;
    auto tracking = "TRACK-" + run;
    self->request(rt, caf::infinite, svc::signal_atom::value, run, "shipped",
                  endure::to_bytes(tracking))
      .then([run](caf::ok_atom) { say("[clerk] shipped " + run); },
            [run](const caf::error& e) {
              std::cerr << "[clerk] " << svc::error_of(e, "ship " + run).message << "\n";
            });
  };
  return {
    [ship](svc::event_atom, const endure::run_changed& e) {
      if (e.workflow == "fulfil_order" && e.status == endure::run_status::waiting)
        ship(e.run);
    },
    [](svc::event_atom, const endure::request_changed&) {},
    // (ship, run id): the desk found a run already waiting when it started
    // it (it was waiting before this process subscribed).
    [ship](order_atom, const std::string& run) { ship(run); },
  };
}

// Starts a run per order, asks for its outcome, reports when all ended.
struct desk_state {
  int ended = 0;
  int expected = 0;
};

caf::behavior order_desk(caf::stateful_actor<desk_state>* self, caf::actor rt, caf::actor clerk,
                         caf::actor report_to, int orders) {
  self->state.expected = orders;
  auto ended = [self, report_to] {
    if (++self->state.ended == self->state.expected)
      self->send(report_to, all_done_atom::value);
  };
  return {
    [=](order_atom, const std::string& id, int amount) {
      self->request(rt, caf::infinite, svc::start_atom::value, "fulfil_order", id,
                    endure::to_bytes(amount))
        .then(
          [=](const endure::run_meta& run) {
            say("[desk] " + id + ": " + std::string{endure::to_string(run.status)});
            if (run.status == endure::run_status::waiting)
              self->send(clerk, order_atom::value, id);
            self->request(rt, caf::infinite, svc::wait_atom::value, id, std::int64_t{60'000})
              .then(
                [=](const endure::run_outcome& out) {
                  bool done = out.status == endure::run_status::completed;
                  say("[desk] " + id + " " + std::string{endure::to_string(out.status)} + ": "
                      + (done ? out.value<std::string>() : out.error));
                  ended();
                },
                [=](const caf::error& e) {
                  std::cerr << "[desk] " << svc::error_of(e, "wait for " + id).message << "\n";
                  ended();
                });
          },
          [=](const caf::error& e) {
            std::cerr << "[desk] " << svc::error_of(e, "start " + id).message << "\n";
            ended();
          });
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  endure::apply_recommended_settings(cfg);
  caf::actor_system sys{cfg};
  endure::workflow_registry workflows;
  workflows.add("fulfil_order", &fulfil_order);
  endure::runtime_options opts;
  opts.journal.data_dir = argc > 1 ? argv[1] : "actor-service-data";
  int orders = argc > 2 ? std::atoi(argv[2]) : 5;
  if (orders < 1) {
    std::cerr << "ORDERS must be a positive number\n";
    return 2;
  }
  auto rt = endure::runtime::open(sys, opts, std::move(workflows));
  if (!rt) {
    std::cerr << "cannot open the runtime: " << rt.error().message << "\n";
    return 1;
  }
  auto handle = (*rt)->handle();
  {
    // The main thread is no actor: it may block until the desk reports.
    caf::scoped_actor main_thread{sys};
    auto clerk = sys.spawn(shipping_clerk, handle, caf::actor{main_thread});
    bool subscribed = false;
    main_thread->receive([&](caf::ok_atom) { subscribed = true; },
                         [](const caf::error&) {});
    if (!subscribed)
      return 1;  // the clerk said why
    auto desk = sys.spawn(order_desk, handle, clerk, caf::actor{main_thread}, orders);
    for (int i = 1; i <= orders; ++i)
      main_thread->send(desk, order_atom::value, "order-" + std::to_string(i), i);
    main_thread->receive([](all_done_atom) {});
    main_thread->send_exit(desk, caf::exit_reason::user_shutdown);
    main_thread->send_exit(clerk, caf::exit_reason::user_shutdown);
  }
  auto stats = (*rt)->stats();
  say(std::to_string(orders) + " orders ended; steps executed "
      + std::to_string(stats.steps_executed) + ", replayed " + std::to_string(stats.steps_replayed));
  rt->reset();  // stop the runtime before the actor system
  return 0;
}
