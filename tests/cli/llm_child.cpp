// The process the LLM crash test kills: one run of "ask_then_gate", whose
// first step is a ctx.llm call to the OpenAI-compatible server at BASE_URL
// and whose second step blocks until a line "open" arrives on stdin (end of
// file fails it). It prints "gate waiting" when that second step starts (so
// the first step is journaled), then "result: <text>" when the run ends.
//
//   llm_child DATA_DIR BASE_URL
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <iostream>
#include <string>

#include "endure/actors/endure.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace std::chrono_literals;

namespace {

std::string wait_for_gate(const step_info& info) {
  std::cout << "gate waiting (attempt " << info.attempt << ")" << std::endl;
  std::string line;
  if (!std::getline(std::cin, line) || line != "open")
    throw fatal_error("stdin ended before the gate opened");
  return "gate open";
}

task<std::string> ask_then_gate(context& ctx, std::string prompt) {
  net::chat_request req;
  req.messages = {net::chat_message::user(prompt)};
  auto ask = ctx.llm("ask", std::move(req));
  auto answer = co_await std::move(ask);
  auto gate = ctx.step("gate", &wait_for_gate);
  auto opened = co_await std::move(gate);
  co_return answer.content + " / " + opened;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: llm_child DATA_DIR BASE_URL\n";
    return 2;
  }
  net::llm_config config;
  config.base_url = argv[2];
  config.model = "fake";
  config.api_key_env = "";
  config.request_timeout = 10s;
  runtime_options opts;
  opts.journal.data_dir = argv[1];
  opts.journal.mode = durability::nosync;
  opts.llm = net::make_llm_backend(config);
  workflow_registry workflows;
  workflows.add("ask_then_gate", &ask_then_gate);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::cerr << "llm_child: " << rt.error().message << "\n";
    return 1;
  }
  auto started = (*rt)->start("ask_then_gate", "crash-run", std::string{"durable answers"});
  if (!started) {
    std::cerr << "llm_child: " << started.error().message << "\n";
    return 1;
  }
  auto out = (*rt)->wait("crash-run", 60s);
  if (!out || out->status != run_status::completed) {
    std::cerr << "llm_child: run did not complete: "
              << (out ? out->error : out.error().message) << "\n";
    return 1;
  }
  std::cout << "result: " << out->value<std::string>() << std::endl;
  return 0;
}
