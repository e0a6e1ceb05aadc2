// The clients steps reach the outside world with: the LLM backend ctx.llm
// calls, the HTTP client ctx.http sends with and the tools ctx.tool runs. Owned by the runtime,
// shared by every run actor of it, outliving them all. Internal.
//
// Threads: any. The backend is fixed at construction; the HTTP client, when
// none was given, is made on first use (under a mutex), so a runtime whose
// workflows never call ctx.http starts no io thread for it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "endure/persistence/error.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::net {
class llm_backend;
class http_client;
} // namespace endure::net

namespace endure::agent {
class tool_registry;
} // namespace endure::agent

namespace endure::gateway {
class policy;
} // namespace endure::gateway

namespace endure {
class journal;
} // namespace endure

namespace endure::state {
class memory_store;
} // namespace endure::state

namespace endure::detail {

class step_services {
public:
  step_services(std::shared_ptr<net::llm_backend> llm, std::shared_ptr<net::http_client> http,
                std::shared_ptr<const agent::tool_registry> tools)
    : llm_(std::move(llm)), tools_(std::move(tools)), http_(std::move(http)) {}

  /// The configured model; null when none is.
  const std::shared_ptr<net::llm_backend>& llm() const noexcept { return llm_; }

  /// The configured tools; null when none are.
  const agent::tool_registry* tools() const noexcept { return tools_.get(); }

  /// Asks the human gateway, blocking, to apply request `id`'s deadline;
  /// returns gateway::deadline_answer text, or the refusal.
  using deadline_fn = std::function<expected<std::string>(const std::string& id)>;

  /// The policy gate ctx.tool passes, the journal its requests are rows of,
  /// how the human gateway hears of a new one and how a run asks it about
  /// a deadline that passed. Set once at open.
  /// Tells the human gateway that a run which waited on it ended.
  using run_ended_fn = std::function<void(const std::string& run_id, run_status status)>;

  void set_gate(const gateway::policy* policy, journal* store,
                std::function<void(const std::string&)> raised, deadline_fn deadline,
                run_ended_fn ended) {
    policy_ = policy;
    store_ = store;
    raised_ = std::move(raised);
    deadline_ = std::move(deadline);
    ended_ = std::move(ended);
  }
  /// Null when no policy is configured (no call is gated).
  const gateway::policy* policy() const noexcept { return policy_; }
  journal* store() const noexcept { return store_; }
  /// Tells the human gateway that request `id`'s row is durable.
  void raised(const std::string& id) const {
    if (raised_)
      raised_(id);
  }

  /// Tells the human gateway that run `run_id`, which waited on one of its
  /// requests, ended with `status` (its pending requests are withdrawn).
  void run_ended(const std::string& run_id, run_status status) const {
    if (ended_)
      ended_(run_id, status);
  }

  /// The gateway's answer at request `id`'s deadline (an activity thread:
  /// it blocks until the gateway answered).
  expected<std::string> deadline_passed(const std::string& id) const {
    if (!deadline_)
      return make_error(errc::shut_down, "request " + id + ": no human gateway is running");
    return deadline_(id);
  }

  /// Asks the escalation actor, blocking (an activity thread): `assess`
  /// (proposal JSON) or outcome (outcome JSON) under decision `key`.
  enum class escalation_call { assess, outcome };
  using escalation_fn = std::function<expected<std::string>(
    escalation_call what, const std::string& key, const std::string& body)>;
  void set_escalation(escalation_fn fn) { escalation_ = std::move(fn); }
  /// Whether the runtime runs an escalation actor (runtime_options::escalation).
  bool has_escalation() const noexcept { return static_cast<bool>(escalation_); }
  /// The escalation actor's answer; shut_down when the runtime has none,
  /// its message beginning "no escalation actor runs in this runtime"
  /// (escalate.cpp tells it from a restarting actor by that).
  expected<std::string> escalation(escalation_call what, const std::string& key,
                                   const std::string& body) const {
    if (!escalation_)
      return make_error(errc::shut_down, "no escalation actor runs in this runtime "
                                         "(runtime_options::escalation is not set)");
    return escalation_(what, key, body);
  }

  /// The runtime's memory store (runtime_options::memory); null when it
  /// has none. Set once at open, outlives the runs.
  void set_memory(state::memory_store* memory) { memory_ = memory; }
  state::memory_store* memory() const noexcept { return memory_; }

  /// The configured client, or one with default options made now.
  std::shared_ptr<net::http_client> http();

private:
  std::shared_ptr<net::llm_backend> llm_;
  std::shared_ptr<const agent::tool_registry> tools_;
  const gateway::policy* policy_ = nullptr;
  journal* store_ = nullptr;
  std::function<void(const std::string&)> raised_;
  deadline_fn deadline_;
  run_ended_fn ended_;
  escalation_fn escalation_;
  state::memory_store* memory_ = nullptr;
  std::mutex mutex_;
  std::shared_ptr<net::http_client> http_;
};

} // namespace endure::detail
