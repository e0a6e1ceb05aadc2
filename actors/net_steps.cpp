// ctx.llm and ctx.http: async steps over the net layer. The call is made
// from the run actor's thread and answers on the client's thread, through
// the async_done callback, as a result (msgpack) or a classified failure;
// everything else (journaling, retries, replay) is the common step path.
#include "actors/context.hpp"

#include "actors/detail/step_services.hpp"
#include "net/http_client.hpp"
#include "net/http_failure.hpp"
#include "net/llm_backend.hpp"

namespace endure {

namespace {

std::string where(const step_info& info) {
  return "run " + info.run_id + " step '" + info.name + "'";
}

failure no_model(const step_info& info) {
  return failure{failure_class::fatal,
                 where(info) + " calls ctx.llm, but the runtime has no model configured: set "
                   "runtime_options::llm (net::make_llm_backend(config); an empty "
                   "config.base_url gives the sim)",
                 std::nullopt, 0};
}

/// The usage ctx.llm journals with its result: read back from the answer.
step_usage usage_of(std::string_view result) {
  try {
    auto r = from_bytes<net::chat_response>(result);
    return {r.usage.prompt_tokens, r.usage.completion_tokens, r.cost_usd, r.model};
  } catch (const std::exception&) {
    return {};  // not an answer: nothing to count (cannot happen for our own bytes)
  }
}

void call_model(detail::step_services* services, net::chat_request request,
                const step_info& info, detail::async_done done) {
  auto backend = services ? services->llm() : nullptr;
  if (!backend)
    return done(std::nullopt, no_model(info));
  request.attempt = info.attempt - 1;
  backend->chat(std::move(request), [done = std::move(done)](net::result<net::chat_response> r) {
    if (!r)
      return done(std::nullopt, std::move(r).error());
    done(to_bytes(*r), std::nullopt);
  });
}

void send_http(detail::step_services* services, net::http_request request,
               const step_info& info, detail::async_done done) {
  if (!services)
    return done(std::nullopt, failure{failure_class::fatal,
                                      where(info) + ": this host offers no HTTP client",
                                      std::nullopt, 0});
  if (!net::find_header(request.headers, "Idempotency-Key"))
    request.headers.push_back({"Idempotency-Key", info.idempotency_key});
  auto what = request.method + " " + request.url + " (" + where(info) + ")";
  services->http()->send(std::move(request), [done = std::move(done), what](
                                                net::result<net::http_response> r) {
    if (!r)
      return done(std::nullopt, std::move(r).error());
    if (r->status >= 400)
      return done(std::nullopt, net::failure_from_response(*r, what));
    done(to_bytes(*r), std::nullopt);
  });
}

/// The step body: `send` with a copy of `request`, from the run actor's
/// thread, once per attempt.
template <class Request>
std::function<void(const step_info&, detail::async_done)>
body_of(detail::step_services* services, Request request,
        void (*send)(detail::step_services*, Request, const step_info&, detail::async_done)) {
  return [services, request = std::move(request), send](const step_info& info,
                                                        detail::async_done done) {
    send(services, request, info, std::move(done));
  };
}

} // namespace

op_awaiter<net::chat_response> context::llm(std::string name, net::chat_request request) {
  auto hash = input_hash(name, request);
  auto body = body_of(host_->services(), std::move(request), &call_model);
  return async_op<net::chat_response>(std::move(name), hash, std::move(body), &usage_of);
}

op_awaiter<net::http_response> context::http(std::string name, net::http_request request) {
  auto hash = input_hash(name, request);
  auto body = body_of(host_->services(), std::move(request), &send_http);
  return async_op<net::http_response>(std::move(name), hash, std::move(body), {});
}

} // namespace endure
