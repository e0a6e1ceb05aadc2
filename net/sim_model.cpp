// See sim_model.hpp. A call is: encode the request as a client would, let
// sim_engine answer the wire body, wait the simulated latency on the timer
// thread, then decode and classify the answer with the real client's code.
#include "endure/net/sim_model.hpp"

#include "endure/net/detail/answer.hpp"
#include "endure/net/detail/timer_thread.hpp"
#include "endure/net/openai_codec.hpp"

namespace endure::net {

namespace {

constexpr const char* chat_what = "chat completion from sim";
constexpr const char* embed_what = "embeddings from sim";

std::chrono::milliseconds deadline_of(std::chrono::milliseconds request,
                                      const llm_config& config) {
  return request.count() > 0 ? request : config.request_timeout;
}

/// The sim's answer, or the failure of what building it threw (a schema
/// the sim cannot follow, say): fatal, as the same request would throw again.
template <class Simulate>
result<sim_reply> simulated(std::string_view what, Simulate simulate) {
  try {
    return simulate();
  } catch (const std::exception& e) {
    return make_failure(failure_class::fatal, std::string(what) + ": the sim cannot answer "
                                                "this request: " + e.what());
  }
}

} // namespace

sim_model::sim_model(llm_config config)
  : config_(std::move(config)), timers_(std::make_unique<detail::timer_thread>()) {}

sim_model::~sim_model() = default; // the timer thread completes pending calls, cancelled

std::size_t sim_model::calls(sim_fault fault) const noexcept {
  return counts_[static_cast<std::size_t>(fault)].load();
}

template <class Request, class Answer, class Callback>
void sim_model::serve(const Request& request, sim_reply reply, Answer answer, Callback done) {
  counts_[static_cast<std::size_t>(reply.fault)].fetch_add(1);
  auto timeout = deadline_of(request.timeout, config_);
  if (reply.fault == sim_fault::timeout || reply.delay > timeout) {
    timers_->schedule(timeout, [timeout, done = std::move(done)](bool cancelled) {
      done(make_failure(failure_class::retryable,
                        cancelled ? std::string("sim model shut down before answering")
                                  : "sim: request timed out after " + std::to_string(timeout.count()) +
                                      " ms (simulated); retry or raise the timeout"));
    });
    return;
  }
  timers_->schedule(reply.delay, [response = std::move(reply.response), answer = std::move(answer),
                                  done = std::move(done)](bool cancelled) {
    if (cancelled)
      done(make_failure(failure_class::retryable, "sim model shut down before answering"));
    else
      done(answer(response)); // never throws: detail::chat_answer / embedding_answer
  });
}

template <class Callback>
void sim_model::fail_later(endure::failure f, Callback done) {
  // On the timer thread, like every other answer.
  timers_->schedule(std::chrono::milliseconds{0},
                    [f = std::move(f), done = std::move(done)](bool) { done(f); });
}

void sim_model::chat(chat_request request, chat_callback done) {
  auto body = encode_chat_request(request, "sim");
  if (!body)
    return fail_later(std::move(body).error(), std::move(done));
  auto reply = simulated(chat_what, [&] { return simulate_chat(config_.sim, *body, request.attempt); });
  if (!reply)
    return fail_later(std::move(reply).error(), std::move(done));
  auto answer = [request, this](const http_response& r) {
    return detail::chat_answer(r, request, config_, chat_what, {});
  };
  serve(request, std::move(*reply), std::move(answer), std::move(done));
}

void sim_model::embed(embedding_request request, embed_callback done) {
  auto body = encode_embedding_request(request, "sim");
  auto reply = simulated(embed_what, [&] {
    return simulate_embeddings(config_.sim, body, request.attempt);
  });
  if (!reply)
    return fail_later(std::move(reply).error(), std::move(done));
  auto answer = [request, this](const http_response& r) {
    return detail::embedding_answer(r, request, config_, embed_what, {});
  };
  serve(request, std::move(*reply), std::move(answer), std::move(done));
}

} // namespace endure::net
