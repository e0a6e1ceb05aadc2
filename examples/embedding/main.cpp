// Embedding endure in an existing CAF program: the runtime lives in the
// program's own actor system next to its own actors. A workflow charges a
// card, sleeps durably, waits for a signal and reports to one of the
// program's actors. Run it twice with the same data directory: the second
// time every step is replayed from the journal, nothing runs again.
//
//   embedding_example [DATA_DIR]
#include <caf/all.hpp>

#include <iostream>

#include "actors/endure.hpp"

using namespace std::chrono_literals;

namespace {

// One of the host program's own actors; the workflow reports to it.
caf::behavior audit_log(caf::event_based_actor*) {
  return {[](const std::string& line) { std::cout << "[audit] " << line << std::endl; }};
}

caf::actor audit;  // set in main before any run starts

std::string charge_card(const endure::step_info& info, const std::string& order) {
  // A real system would send info.idempotency_key to the payment API so a
  // retried or replayed charge is never taken twice.
  caf::anon_send(audit, "charging " + order + " (key " + info.idempotency_key + ")");
  return "receipt-" + order;
}

endure::task<std::string> order_workflow(endure::context& ctx, std::string order) {
  auto charge = [](const endure::step_info& info, const std::string& o) {
    return charge_card(info, o);
  };
  auto receipt = co_await ctx.step("charge", charge, order);
  co_await ctx.sleep(200ms);  // durable: a restart does not start it over
  auto shipped = co_await ctx.wait_signal<bool>("shipped", 10s);
  co_return receipt + (shipped.value_or(false) ? " shipped" : " not shipped");
}

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  endure::apply_recommended_settings(cfg);         // optional: the scheduler endure is tuned for
  caf::actor_system sys{cfg};
  audit = sys.spawn(audit_log);

  endure::workflow_registry workflows;
  workflows.add("order", &order_workflow);
  endure::runtime_options opts;
  opts.journal.data_dir = argc > 1 ? argv[1] : "embedding-data";
  auto rt = endure::runtime::open(sys, opts, std::move(workflows));
  if (!rt) {
    std::cerr << "cannot open the runtime: " << rt.error().message << "\n";
    return 1;
  }
  auto& runtime = **rt;
  auto started = runtime.start("order", "order-42", std::string{"order-42"});
  if (!started) {
    std::cerr << started.error().message << "\n";
    return 1;
  }
  if (!endure::is_terminal(*started))
    if (auto ok = runtime.signal("order-42", "shipped", true); !ok)
      std::cerr << "signal: " << ok.error().message << "\n";
  auto outcome = runtime.wait("order-42", 30s);
  if (!outcome) {
    std::cerr << outcome.error().message << "\n";
    return 1;
  }
  std::cout << "order-42: " << endure::to_string(outcome->status) << ": "
            << outcome->value<std::string>() << "\n"
            << "steps executed " << runtime.stats().steps_executed << ", replayed "
            << runtime.stats().steps_replayed << "\n";
  rt->reset();  // stop the runtime before the actor system
  caf::anon_send_exit(audit, caf::exit_reason::user_shutdown);
  return 0;
}
