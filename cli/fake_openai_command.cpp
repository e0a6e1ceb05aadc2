// `endure fake-openai`: the net layer's fake OpenAI-compatible server as a
// command, for demos and tests of a real endpoint without one. Listens on
// 127.0.0.1 only, prints the base URL it serves (a line a script can read),
// answers from a script file first, then (--malformed) with a broken answer
// of a named kind, then with the sim and its fault rates, and stops cleanly
// on SIGINT or SIGTERM (printing the requests served).
// The signals are blocked before the server's thread starts, so only the
// sigwait here sees them.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "endure/cli/command.hpp"
#include "endure/net/fake_openai_server.hpp"

namespace endure::cli {

namespace {

struct fake_options {
  int port = 0;
  std::uint64_t seed = 0;
  int latency_ms = 0;
  int jitter_ms = 0;
  double fault_rate = 0.0;
  double rate_limit_rate = 0.0;
  double server_error_rate = 0.0;
  double timeout_rate = 0.0;
  double malformed_rate = 0.0;
  int retry_after_ms = 1000;
  std::uint64_t context_window = 32768;
  std::string script;
  std::string malformed;
  int malformed_count = 1;
};

const char* const malformed_kinds =
  "null-id, wrong-type, html, empty, truncated, endless, drip, hang, reset";

/// A completion the way a real server writes one, with `id` as given.
std::string completion_with_id(const char* id_json, const char* content_json) {
  return std::string(R"({"id":)") + id_json + R"(,"object":"chat.completion","model":"fake",)" +
         R"("choices":[{"index":0,"message":{"role":"assistant","content":)" + content_json +
         R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,)" +
         R"("total_tokens":8}})";
}

/// The answer of `--malformed KIND`: the ways real servers and networks break.
std::optional<net::scripted_response> malformed_answer(const std::string& kind) {
  const net::http_headers json{{"Content-Type", "application/json"}};
  net::scripted_response r{200, json, ""};
  if (kind == "null-id") {  // accepted: null stands for an absent optional field
    r.body = completion_with_id("null", R"("a fine answer")");
  } else if (kind == "wrong-type") {
    r.body = completion_with_id(R"("chatcmpl-1")", "42");
  } else if (kind == "html") {
    r.headers = {{"Content-Type", "text/html"}};
    r.body = "<html><body><h1>It works!</h1></body></html>";
  } else if (kind == "empty") {
  } else if (kind == "truncated") {
    auto whole = completion_with_id(R"("chatcmpl-1")", R"("a fine answer")");
    r.body = whole.substr(0, whole.size() / 2);
  } else if (kind == "endless") {
    r.stream = true;
    r.body = std::string(64 * 1024, ' ');
  } else if (kind == "drip") {
    r.stream = true;
    r.body = " ";
    r.chunk_interval = std::chrono::milliseconds{100};
  } else if (kind == "hang") {
    r.hang = true;
  } else if (kind == "reset") {
    r.raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            R"({"id":"chatcmpl-1","choices":[)";
    r.reset = true;
  } else {
    return std::nullopt;
  }
  return r;
}

/// One script entry: {"status": 429, "headers": {"Retry-After": "2"},
/// "body": "text" or any JSON value, "delay_ms": 0}, and to misbehave:
/// "close", "raw" (bytes sent as they are), "reset" (TCP RST after),
/// "stream" with "chunks" and "chunk_interval_ms" (a dripping or endless
/// body), "hang" (never answer).
net::scripted_response scripted_from(const nlohmann::json& e) {
  net::scripted_response r;
  if (!e.is_object())
    throw std::runtime_error("is not an object");
  r.status = e.value("status", 200);
  if (r.status < 100 || r.status > 599)
    throw std::runtime_error("has status " + std::to_string(r.status) + ", not 100..599");
  auto headers = e.value("headers", nlohmann::json::object());  // a local: items() refers to it
  if (!headers.is_object())
    throw std::runtime_error("has \"headers\" that is not an object");
  for (auto& [name, value] : headers.items())
    r.headers.push_back({name, value.is_string() ? value.get<std::string>() : value.dump()});
  if (e.contains("body"))
    r.body = e["body"].is_string() ? e["body"].get<std::string>() : e["body"].dump();
  r.delay = std::chrono::milliseconds{e.value("delay_ms", 0)};
  r.close_connection = e.value("close", false);
  r.raw = e.value("raw", std::string{});
  r.reset = e.value("reset", false);
  r.stream = e.value("stream", false);
  r.chunks = e.value("chunks", std::size_t{0});
  r.chunk_interval = std::chrono::milliseconds{e.value("chunk_interval_ms", 0)};
  r.hang = e.value("hang", false);
  return r;
}

/// The script file's answers, in order; errors name the file and entry.
std::vector<net::scripted_response> read_script(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read script " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_array())
    throw std::runtime_error("script " + path + " is not a JSON array of answers, e.g. "
                             R"([{"status": 429, "headers": {"Retry-After": "1"}}])");
  std::vector<net::scripted_response> out;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    try {
      out.push_back(scripted_from(doc[i]));
    } catch (const std::exception& e) {
      throw std::runtime_error("script " + path + " entry " + std::to_string(i) + " "
                               + e.what());
    }
  }
  return out;
}

net::fake_server_options server_options(const fake_options& o) {
  net::fake_server_options s;
  s.host = "127.0.0.1";
  s.port = static_cast<std::uint16_t>(o.port);
  s.sim.seed = o.seed;
  s.sim.latency = std::chrono::milliseconds{o.latency_ms};
  s.sim.latency_jitter = std::chrono::milliseconds{o.jitter_ms};
  s.sim.rate_limit_rate = o.rate_limit_rate + o.fault_rate / 2;
  s.sim.server_error_rate = o.server_error_rate + o.fault_rate / 2;
  s.sim.timeout_rate = o.timeout_rate;
  s.sim.malformed_rate = o.malformed_rate;
  s.sim.retry_after = std::chrono::milliseconds{o.retry_after_ms};
  s.sim.context_window_tokens = o.context_window;
  return s;
}

int serve_fake(const fake_options& o) {
  auto s = server_options(o);
  if (s.sim.rate_limit_rate + s.sim.server_error_rate + s.sim.timeout_rate
        + s.sim.malformed_rate > 1.0) {
    fail("fake-openai: the fault rates add up to more than 1");
    return 2;
  }
  std::vector<net::scripted_response> script;
  try {
    if (!o.script.empty())
      script = read_script(o.script);
  } catch (const std::exception& e) {
    fail(std::string{"fake-openai: "} + e.what());
    return 2;
  }
  if (!o.malformed.empty()) {
    auto bad = malformed_answer(o.malformed);
    if (!bad) {
      fail("fake-openai: --malformed " + o.malformed + " is not one of: " + malformed_kinds);
      return 2;
    }
    if (o.malformed_count == 0)
      s.fixed_answer = *bad;  // every request
    else
      script.insert(script.end(), static_cast<std::size_t>(o.malformed_count), *bad);
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  try {
    net::fake_openai_server server{s};
    for (auto& r : script)
      server.push(std::move(r));
    std::cout << "fake OpenAI server listening on " << server.base_url() << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    std::cout << "stopping on " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << " after "
              << server.requests() << " requests" << std::endl;
  } catch (const std::exception& e) {
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
    return fail(std::string{"fake-openai: cannot serve on 127.0.0.1 port "}
                + std::to_string(o.port) + ": " + e.what());
  }
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  return 0;
}

} // namespace

void add_fake_openai_command(CLI::App& app, command_env& env) {
  auto o = std::make_shared<fake_options>();
  auto* cmd = app.add_subcommand(
    "fake-openai", "serve a fake OpenAI-compatible API on 127.0.0.1 (scripted answers, then "
                   "the sim with injected faults) until SIGINT or SIGTERM");
  auto rate = CLI::Range(0.0, 1.0);
  cmd->add_option("--port", o->port, "port to listen on; 0 picks a free one")
    ->capture_default_str()
    ->check(CLI::Range(0, 65535));
  cmd->add_option("--seed", o->seed, "sim seed: changes every answer and fault")
    ->capture_default_str();
  cmd->add_option("--latency-ms", o->latency_ms, "delay of every answer")
    ->capture_default_str()->check(CLI::Range(0, 600000));
  cmd->add_option("--jitter-ms", o->jitter_ms, "extra delay, uniform in [0, this]")
    ->capture_default_str()->check(CLI::Range(0, 600000));
  cmd->add_option("--fault-rate", o->fault_rate,
                  "fraction of calls failing, half as 429 (Retry-After), half as 500")
    ->capture_default_str()->check(rate);
  cmd->add_option("--rate-limit-rate", o->rate_limit_rate, "fraction answered 429")
    ->capture_default_str()->check(rate);
  cmd->add_option("--server-error-rate", o->server_error_rate, "fraction answered 500")
    ->capture_default_str()->check(rate);
  cmd->add_option("--timeout-rate", o->timeout_rate, "fraction never answered")
    ->capture_default_str()->check(rate);
  cmd->add_option("--malformed-rate", o->malformed_rate, "fraction answered with half a body")
    ->capture_default_str()->check(rate);
  cmd->add_option("--retry-after-ms", o->retry_after_ms, "Retry-After of the 429s")
    ->capture_default_str()->check(CLI::Range(0, 3600000));
  cmd->add_option("--context-window", o->context_window,
                  "prompts above this many tokens (chars / 4) fail as context too long")
    ->capture_default_str();
  cmd->add_option("--script", o->script,
                  "JSON file: an array of answers served first, in order, e.g. "
                  R"([{"status": 429, "headers": {"Retry-After": "2"}, "body": "..."}])");
  cmd->add_option("--malformed", o->malformed,
                  std::string("answer the first --malformed-count requests (after the script) "
                              "the broken way named: ") + malformed_kinds);
  cmd->add_option("--malformed-count", o->malformed_count,
                  "how many requests get the --malformed answer; 0 means every request")
    ->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd->callback([&env, o] { env.exit_code = serve_fake(*o); });
}

} // namespace endure::cli
