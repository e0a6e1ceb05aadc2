// Embedding endure in an existing CAF program: the runtime lives in the
// program's own actor system next to its own actors. The workflow searches,
// drafts (retried), sleeps durably, waits for a person's approval (a
// signal) and reports to one of the program's actors. Run it twice with the
// same data directory: the second time the journal already holds the
// outcome and nothing runs again; kill it during the sleep and run it again:
// the completed steps are replayed, not re-run. The README's "What you write" and
// "Embedding the runtime" snippets are copied from this file (a test checks
// that they still are).
//
//   embedding_example [DATA_DIR]
#include <caf/all.hpp>

#include <iostream>

#include "endure/endure.hpp"

namespace {

// One of the host program's own actors; the workflow's steps report to it.
caf::behavior audit_log(caf::event_based_actor*) {
  return {[](const std::string& line) { std::cout << "[audit] " << line << std::endl; }};
}

caf::actor audit;  // set in main before any run starts

// Stand-ins for the services a real agent calls. A real search API would
// get the idempotency key, so a retried or replayed call is never paid twice.
std::string search_web(const std::string& keyword, const std::string& idempotency_key) {
  caf::anon_send(audit, "searching " + keyword + " (key " + idempotency_key + ")");
  return "3 results for " + keyword;
}

std::string draft_fn(const std::string& serp) {
  caf::anon_send(audit, "drafting from " + serp);
  return "a draft built on " + serp;
}

// Names and prompts go into locals before co_await (README: g++ 12 pitfall).
endure::task<std::string> pipeline(endure::context& ctx, std::string keyword) {
  auto search = [](const endure::step_info& s, const std::string& kw) {
    return search_web(kw, /*idempotency key*/ s.idempotency_key);
  };
  auto find = ctx.step("search", search, keyword);
  auto serp = co_await std::move(find);
  auto write = ctx.step("draft", draft_fn, serp)
                 .retry({.max_attempts = 5, .attempt_timeout = std::chrono::seconds(30)});
  auto draft = co_await std::move(write);
  co_await ctx.sleep(std::chrono::seconds(1));                     // durable
  auto ok = co_await ctx.wait_signal<bool>("approved", std::chrono::hours(24));
  co_return ok.value_or(false) ? draft : "not approved: " + draft;
}

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;                    // your program's config
  endure::apply_recommended_settings(cfg);         // optional: the scheduler endure is tuned for
  caf::actor_system sys{cfg};                      // your program's system
  audit = sys.spawn(audit_log);                    // one of your program's own actors

  endure::workflow_registry workflows;
  workflows.add("pipeline", &pipeline);
  endure::runtime_options opts;                    // every field documented
  opts.journal.data_dir = argc > 1 ? argv[1] : "embedding-data";
  auto rt = endure::runtime::open(sys, opts, std::move(workflows));
  if (!rt) {
    std::cerr << "cannot open the runtime: " << rt.error().message << "\n";
    return 1;
  }
  auto started = (*rt)->start("pipeline", "run-17", std::string{"durable execution"});
  if (started && !endure::is_terminal(*started))   // a person approves the draft
    if (auto sent = (*rt)->signal("run-17", "approved", true); !sent)
      std::cerr << sent.error().message << "\n";
  auto outcome = (*rt)->wait("run-17", std::chrono::minutes(5));

  if (!outcome) {
    std::cerr << outcome.error().message << "\n";
    return 1;
  }
  auto& runtime = **rt;
  std::cout << "run-17: " << endure::to_string(outcome->status) << ": "
            << outcome->value<std::string>() << "\n"
            << "steps executed " << runtime.stats().steps_executed << ", replayed "
            << runtime.stats().steps_replayed << "\n";
  rt->reset();  // stop the runtime before the actor system
  caf::anon_send_exit(audit, caf::exit_reason::user_shutdown);
  return 0;
}
