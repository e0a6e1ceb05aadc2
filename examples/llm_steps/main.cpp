// ctx.llm and ctx.http as durable steps: a workflow asks the model for a
// summary, then posts it to an HTTP service. Both answers are journaled with
// the run, the model's token usage and cost too; run it twice on the same
// data directory and the second time nothing is sent again (the usage
// printed is the same, not doubled).
//
//   llm_steps_example [DATA_DIR] [BASE_URL [MODEL]]
//
// Without BASE_URL the model is the sim (no network). The HTTP service is a
// stand-in started in this process (endure's fake server, which answers any
// path); point the request at your own service instead.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdio>
#include <iostream>

#include "endure/endure.hpp"
#include "endure/net/fake_openai_server.hpp"
#include "endure/net/llm_backend.hpp"

using namespace std::chrono_literals;

namespace {

std::string notes_url;  // set in main before any run starts

endure::task<std::string> summarise(endure::context& ctx, std::string text) {
  endure::net::chat_request req;
  req.messages = {endure::net::chat_message::user("Summarise: " + text)};
  auto ask = ctx.llm("summarise", std::move(req)).retry({.max_attempts = 6});
  endure::net::chat_response answer = co_await std::move(ask);

  endure::net::http_request post{"POST", notes_url, {}, answer.content};
  auto send = ctx.http("store", std::move(post));
  endure::net::http_response stored = co_await std::move(send);
  co_return answer.content + " [stored: HTTP " + std::to_string(stored.status) + "]";
}

} // namespace

int main(int argc, char** argv) {
  endure::net::fake_openai_server notes_service;  // the stand-in
  notes_service.push({201, {}, "created"});
  notes_url = notes_service.base_url() + "/notes";

  endure::net::llm_config model;                  // empty base_url: the sim
  model.base_url = argc > 2 ? argv[2] : "";
  model.model = argc > 3 ? argv[3] : "";
  model.input_price_per_1k = 0.0025;              // USD, for the cost
  model.output_price_per_1k = 0.01;

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  endure::workflow_registry workflows;
  workflows.add("summarise", &summarise);
  endure::runtime_options opts;
  opts.journal.data_dir = argc > 1 ? argv[1] : "llm-steps-data";
  opts.llm = endure::net::make_llm_backend(model);  // shared by every run
  auto rt = endure::runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::cerr << "cannot open the runtime: " << rt.error().message << "\n";
    return 1;
  }
  auto& runtime = **rt;
  auto started = runtime.start("summarise", "summary-1",
                               std::string{"journaled LLM calls survive kill -9"});
  auto outcome = started ? runtime.wait("summary-1", 60s) : started.error();
  if (!outcome || outcome->status != endure::run_status::completed) {
    std::cerr << "summary-1: " << (outcome ? outcome->error : outcome.error().message) << "\n";
    return 1;
  }
  auto usage = runtime.usage("summary-1");
  std::cout << outcome->value<std::string>() << "\n";
  if (usage)
    std::printf("%llu prompt + %llu completion tokens, $%.6f; step attempts executed by "
                "this process: %zu\n",
                static_cast<unsigned long long>(usage->prompt_tokens),
                static_cast<unsigned long long>(usage->completion_tokens), usage->cost_usd,
                static_cast<std::size_t>(runtime.stats().steps_executed));
  rt->reset();  // stop the runtime (and with it the model) before the actor system
  return 0;
}
