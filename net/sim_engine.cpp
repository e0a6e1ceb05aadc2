// The sim model's decisions: which fault (if any), how long to wait, and
// the answer body. Every draw comes from one rng seeded by hash(seed,
// request body, attempt), so outcomes repeat exactly for the same call.
#include "endure/net/sim_engine.hpp"
#include "endure/net/token_estimate.hpp"

#include "endure/net/detail/sim_content.hpp"
#include "endure/net/detail/sim_turn.hpp"
#include "endure/net/openai_codec.hpp"

#include <cstdio>

namespace endure::net {

namespace {

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t tokens_of(std::string_view text) { return estimate_tokens(text); }
std::uint64_t prompt_tokens(const chat_request& req) { return estimate_prompt_tokens(req); }

sim_reply json_reply(int status, std::string body) {
  sim_reply r;
  r.response.status = status;
  r.response.headers.push_back({"Content-Type", "application/json"});
  r.response.body = std::move(body);
  return r;
}

/// Draws the fault for this call; the rates are cumulative slices of [0,1).
sim_fault draw_fault(const sim_options& o, detail::sim_rng& rng) {
  double u = rng.unit();
  double edge = o.rate_limit_rate;
  if (u < edge) return sim_fault::rate_limited;
  if (u < (edge += o.server_error_rate)) return sim_fault::server_error;
  if (u < (edge += o.timeout_rate)) return sim_fault::timeout;
  if (u < (edge += o.malformed_rate)) return sim_fault::malformed;
  return sim_fault::none;
}

/// Applies latency and the drawn fault to a successful answer `ok`.
sim_reply with_fault(const sim_options& o, detail::sim_rng& rng, sim_reply ok) {
  auto jitter = o.latency_jitter.count() > 0
                  ? static_cast<std::int64_t>(rng.below(static_cast<std::size_t>(o.latency_jitter.count()) + 1))
                  : 0;
  auto delay = o.latency + std::chrono::milliseconds{jitter};
  sim_fault fault = draw_fault(o, rng);
  sim_reply r;
  switch (fault) {
    case sim_fault::none:
      r = std::move(ok);
      break;
    case sim_fault::rate_limited: {
      r = json_reply(429, encode_error_body("Rate limit reached for sim (simulated); please retry "
                                            "after the indicated delay.",
                                            "requests", "rate_limit_exceeded"));
      auto seconds = (o.retry_after.count() + 999) / 1000;
      r.response.headers.push_back({"Retry-After", std::to_string(seconds)});
      r.response.headers.push_back({"retry-after-ms", std::to_string(o.retry_after.count())});
      break;
    }
    case sim_fault::server_error:
      r = json_reply(500, encode_error_body("The sim server had an error while processing your "
                                            "request (simulated).", "server_error", ""));
      break;
    case sim_fault::timeout:
      break;
    case sim_fault::malformed:
      r = std::move(ok);
      r.response.body.resize(r.response.body.size() / 2);
      break;
    case sim_fault::context_length:
      break;
  }
  r.fault = fault;
  r.delay = delay;
  return r;
}

sim_reply answer_chat(const sim_options& o, const chat_request& req, detail::sim_rng& rng,
                      std::uint64_t id) {
  chat_response out;
  out.id = "chatcmpl-sim-" + hex(id);
  out.model = "sim";
  auto turn = detail::sim_next_turn(req, o, rng);
  out.content = detail::sim_content_of(req, turn, rng);
  out.tool_calls = std::move(turn.calls);
  out.finish_reason = out.tool_calls.empty() ? "stop" : "tool_calls";
  out.usage.prompt_tokens = prompt_tokens(req);
  out.usage.completion_tokens = tokens_of(out.content) + 1;
  for (const auto& c : out.tool_calls)
    out.usage.completion_tokens += tokens_of(c.name) + tokens_of(c.arguments_json);
  out.usage.total_tokens = out.usage.prompt_tokens + out.usage.completion_tokens;
  return json_reply(200, encode_chat_response(out));
}

} // namespace

std::string_view to_string(sim_fault f) noexcept {
  switch (f) {
    case sim_fault::none: return "none";
    case sim_fault::rate_limited: return "rate_limited";
    case sim_fault::server_error: return "server_error";
    case sim_fault::timeout: return "timeout";
    case sim_fault::malformed: return "malformed";
    case sim_fault::context_length: return "context_length";
  }
  return "none";
}

sim_reply simulate_chat(const sim_options& o, std::string_view body, std::uint32_t attempt) {
  // Content depends on (seed, request) only; faults and latency also on the
  // attempt, so a retry draws a new fault but would get the same text.
  std::uint64_t id = detail::sim_hash(body, o.seed);
  detail::sim_rng rng(id);
  detail::sim_rng faults(id ^ (0x51ed270b2a4f3e1dULL * (attempt + 1ULL)));
  auto req = decode_chat_request(body);
  if (!req) {
    auto r = json_reply(400, encode_error_body(req.error().message, "invalid_request_error", ""));
    r.delay = o.latency;
    return r;
  }
  auto tokens = prompt_tokens(*req);
  if (tokens > o.context_window_tokens) {
    auto r = json_reply(400, encode_error_body(
      "This model's maximum context length is " + std::to_string(o.context_window_tokens) +
        " tokens. However, your messages resulted in " + std::to_string(tokens) +
        " tokens. Please reduce the length of the messages.",
      "invalid_request_error", "context_length_exceeded"));
    r.fault = sim_fault::context_length;
    r.delay = o.latency;
    return r;
  }
  return with_fault(o, faults, answer_chat(o, *req, rng, id));
}

sim_reply simulate_embeddings(const sim_options& o, std::string_view body, std::uint32_t attempt) {
  std::uint64_t id = detail::sim_hash(body, o.seed);
  detail::sim_rng faults(id ^ (0x2545f4914f6cdd1dULL * (attempt + 1ULL)));
  auto req = decode_embedding_request(body);
  if (!req) {
    auto r = json_reply(400, encode_error_body(req.error().message, "invalid_request_error", ""));
    r.delay = o.latency;
    return r;
  }
  embedding_response out;
  out.model = "sim";
  for (const auto& text : req->inputs) {
    out.vectors.push_back(detail::sim_embedding(text, o.embedding_dimensions));
    out.usage.prompt_tokens += tokens_of(text);
  }
  out.usage.total_tokens = out.usage.prompt_tokens;
  return with_fault(o, faults, json_reply(200, encode_embedding_response(out)));
}

} // namespace endure::net
