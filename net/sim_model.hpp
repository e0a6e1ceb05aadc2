// `sim`: the deterministic simulated model, served in-process behind the
// llm_backend interface. Used when no endpoint is configured, in tests and
// in demos. Its answers, latencies and faults come from sim_engine (the
// same code the fake server's random mode uses) and go through the same
// decoding and classification as a real endpoint's, so retry logic sees
// exactly what it would see over HTTP.
//
// Threads: one timer thread owned by the object delivers every callback
// after the simulated latency. A simulated timeout fires at the call's
// deadline (request.timeout, else config.request_timeout).
#pragma once

#include "endure/net/llm_backend.hpp"
#include "endure/net/sim_engine.hpp"

#include <atomic>
#include <cstddef>
#include <memory>

namespace endure::net {

namespace detail {
class timer_thread;
}

class sim_model final : public llm_backend {
public:
  /// Uses config.sim, config.request_timeout and the prices; ignores the
  /// endpoint fields.
  explicit sim_model(llm_config config = {});
  ~sim_model() override;

  const std::string& name() const noexcept override { return name_; }
  void chat(chat_request request, chat_callback done) override;
  void embed(embedding_request request, embed_callback done) override;
  std::chrono::milliseconds default_timeout() const noexcept override {
    return config_.request_timeout;
  }

  /// Calls received so far, per fault drawn (for tests and demos).
  std::size_t calls(sim_fault fault) const noexcept;

private:
  template <class Request, class Answer, class Callback>
  void serve(const Request& request, sim_reply reply, Answer answer, Callback done);
  template <class Callback>
  void fail_later(endure::failure f, Callback done);

  llm_config config_;
  std::string name_ = "sim";
  std::atomic<std::size_t> counts_[6] = {};
  std::unique_ptr<detail::timer_thread> timers_;
};

} // namespace endure::net
