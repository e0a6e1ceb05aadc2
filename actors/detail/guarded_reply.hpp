// A response promise that cannot be forgotten. CAF 0.17 sends nothing when
// a response_promise is destroyed undelivered (an actor that stopped with a
// request in hand), so a caller waiting with caf::infinite would wait
// forever. A guarded_reply dropped unanswered answers
// sec::request_receiver_down instead, which the run manager reads as "the
// run actor went away: handle the request again" and the runtime facade as
// "the runtime is not running". Copies share one promise; the first
// deliver wins. Actor thread only. Internal.
#pragma once

#include <memory>
#include <utility>

#include <caf/response_promise.hpp>
#include <caf/sec.hpp>

namespace endure::detail {

class guarded_reply {
public:
  guarded_reply() = default;
  explicit guarded_reply(caf::response_promise rp)
    : state_(std::make_shared<state>(std::move(rp))) {}

  /// Answers the request unless it was answered already.
  template <class... Ts>
  void deliver(Ts&&... xs) const {
    if (pending())
      state_->rp.deliver(std::forward<Ts>(xs)...);
  }
  bool pending() const { return state_ && state_->rp.pending(); }

private:
  struct state {
    explicit state(caf::response_promise p) : rp(std::move(p)) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
      if (rp.pending())
        rp.deliver(caf::make_error(caf::sec::request_receiver_down));
    }
    caf::response_promise rp;
  };
  std::shared_ptr<state> state_;
};

} // namespace endure::detail
