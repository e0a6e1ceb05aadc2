// ctx.llm and ctx.http: async steps over the net layer. The call is made
// from the run actor's thread and answers on the client's thread, through
// the async_done callback, as a result (msgpack) or a classified failure;
// everything else (journaling, retries, replay) is the common step path.
//
// Nothing can hang or escape here: `done` is wrapped so it counts once
// whoever calls it; whatever the backend or the encoding throws, on either
// thread, becomes a classified failure naming run and step; and every
// network step has an attempt deadline (the runtime abandons the attempt
// and retries it), by default the call's own deadline plus a grace, for a
// backend that breaks its promise to answer.
#include "endure/actors/context.hpp"

#include "endure/actors/detail/step_services.hpp"
#include "endure/net/http_client.hpp"
#include "endure/net/http_failure.hpp"
#include "endure/net/llm_backend.hpp"

#include <atomic>

namespace endure {

namespace {

/// Added to a call's own deadline to make the step's default attempt
/// deadline: the net layer's timeout normally ends the attempt first, with
/// the precise message; the step's deadline is the backstop.
constexpr std::chrono::milliseconds deadline_grace{2'000};

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

/// `done` that runs once, whoever calls it how often (the backend's
/// callback, the catch of what the backend threw).
detail::async_done once(detail::async_done done) {
  auto called = std::make_shared<std::atomic<bool>>(false);
  return [called, done = std::move(done)](std::optional<std::string> result,
                                          std::optional<failure> error) {
    if (!called->exchange(true))
      done(std::move(result), std::move(error));
  };
}

/// Completes the attempt with `make()`'s bytes, or its failure, or the
/// failure of what it threw; failures are prefixed with run and step.
template <class Make>
void complete(const detail::async_done& done, const std::string& at, Make make) {
  try {
    auto [bytes, error] = make();
    if (error)
      error->message = at + ": " + error->message;
    done(std::move(bytes), std::move(error));
  } catch (...) {
    done(std::nullopt, net::failure_from_exception(std::current_exception(), at));
  }
}

using outcome = std::pair<std::optional<std::string>, std::optional<failure>>;

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
                const step_info& info, detail::async_done raw_done) {
  auto done = once(std::move(raw_done));
  auto at = where(info);
  auto backend = services ? services->llm() : nullptr;
  if (!backend)
    return done(std::nullopt, no_model(info));
  request.attempt = info.attempt - 1;
  try {
    backend->chat(std::move(request), [done, at](net::result<net::chat_response> r) {
      complete(done, at, [&]() -> outcome {
        if (!r)
          return {std::nullopt, std::move(r).error()};
        return {to_bytes(*r), std::nullopt};
      });
    });
  } catch (...) {
    done(std::nullopt, net::failure_from_exception(std::current_exception(),
                                                   at + ": the model backend threw"));
  }
}

void send_http(detail::step_services* services, net::http_request request,
               const step_info& info, detail::async_done raw_done) {
  auto done = once(std::move(raw_done));
  auto at = where(info);
  if (!services)
    return done(std::nullopt, failure{failure_class::fatal, at + ": this host offers no HTTP client",
                                      std::nullopt, 0});
  if (!net::find_header(request.headers, "Idempotency-Key"))
    request.headers.push_back({"Idempotency-Key", info.idempotency_key});
  auto what = request.method + " " + request.url;
  try {
    services->http()->send(std::move(request), [done, at, what](net::result<net::http_response> r) {
      complete(done, at, [&]() -> outcome {
        if (!r)
          return {std::nullopt, std::move(r).error()};
        if (r->status >= 400)
          return {std::nullopt, net::failure_from_response(*r, what)};
        return {to_bytes(*r), std::nullopt};
      });
    });
  } catch (...) {
    done(std::nullopt, net::failure_from_exception(std::current_exception(),
                                                   at + ": the HTTP client threw"));
  }
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

/// The default policy of a network step: the runtime's defaults, with an
/// attempt deadline of the call's own deadline plus the grace. A policy
/// given with .retry() keeps it unless it sets its own attempt_timeout.
retry_policy network_policy(std::chrono::milliseconds call_deadline) {
  retry_policy p;
  p.attempt_timeout = call_deadline + deadline_grace;
  return p;
}

std::chrono::milliseconds llm_deadline(detail::step_services* services,
                                       const net::chat_request& request) {
  if (request.timeout.count() > 0)
    return request.timeout;
  auto backend = services ? services->llm() : nullptr;
  if (backend && backend->default_timeout().count() > 0)
    return backend->default_timeout();
  return net::llm_config{}.request_timeout;  // a backend that does not say
}

std::chrono::milliseconds http_deadline(detail::step_services* services,
                                        const net::http_request& request) {
  if (request.timeout.count() > 0)
    return request.timeout;
  return services ? services->http()->options().default_timeout
                  : net::http_client_options{}.default_timeout;
}

} // namespace

op_awaiter<net::chat_response> context::llm(std::string name, net::chat_request request) {
  auto hash = input_hash(name, request);
  auto* services = host_->services();
  auto policy = network_policy(llm_deadline(services, request));
  auto body = body_of(services, std::move(request), &call_model);
  return async_op<net::chat_response>(std::move(name), hash, std::move(body), &usage_of)
    .retry(policy);
}

op_awaiter<net::http_response> context::http(std::string name, net::http_request request) {
  auto hash = input_hash(name, request);
  auto* services = host_->services();
  auto policy = network_policy(http_deadline(services, request));
  auto body = body_of(services, std::move(request), &send_http);
  return async_op<net::http_response>(std::move(name), hash, std::move(body), {})
    .retry(policy);
}

} // namespace endure
