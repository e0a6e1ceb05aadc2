// endure::context: what workflow code awaits. Every operation that is not
// deterministic (a step's side effects, time, randomness, ids, timers,
// signals) goes through it and is journaled, so recovery replays results
// instead of re-running them.
//
//   auto serp  = co_await ctx.step("search", search_fn, keyword);
//   auto draft = co_await ctx.step("draft", draft_fn, serp).retry({.max_attempts = 5});
//   co_await ctx.sleep(std::chrono::minutes(10));
//   auto ok    = co_await ctx.wait_signal<bool>("approved", std::chrono::hours(24));
//   auto answer = co_await ctx.llm("outline", chat_request);   // net::chat_response
//   auto page   = co_await ctx.http("fetch", http_request);    // net::http_response
//
// Determinism contract (as in Temporal): between awaits, workflow code must
// make the same calls in the same order on every replay. A step function
// may take `const step_info&` as its first parameter (idempotency key,
// attempt). Runs on the run actor's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "endure/actors/detail/run_host.hpp"
#include "endure/actors/net_msgpack.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/actors/task.hpp"
#include "endure/actors/workflow_errors.hpp"

namespace endure::agent {
class tool_registry;
namespace detail {
struct context_access;
}
} // namespace endure::agent

namespace endure {

/// Awaitable of one operation; T is what `co_await` returns.
template <class T>
class op_awaiter {
public:
  op_awaiter(detail::run_host& host, detail::op_request req)
    : host_(&host), req_(std::move(req)), name_(req_.name) {
    host_->prepare(req_, slot_);
  }
  op_awaiter(op_awaiter&&) = default;

  /// Retry policy of this step (before it is awaited). An attempt_timeout
  /// of zero keeps the operation's own: none for ctx.step, a deadline for
  /// ctx.llm and ctx.http (see llm()).
  op_awaiter&& retry(retry_policy p) && {
    if (p.attempt_timeout.count() == 0)
      p.attempt_timeout = req_.policy.attempt_timeout;
    req_.policy = p;
    return std::move(*this);
  }
  /// Saga: if the run later fails or is cancelled, `undo` runs (journaled,
  /// retried) for this step once it has completed, in reverse step order.
  op_awaiter&& compensate_with(std::function<void(const step_info&)> undo) && {
    undo_ = std::move(undo);
    return std::move(*this);
  }

  /// Runs this step's function on the run's own thread instead of an
  /// activity worker (Temporal's "local activity"): no thread hand-off, so
  /// a step whose function takes microseconds costs a fraction of a pooled
  /// one. Only for functions that are short and never block (hashing,
  /// parsing, formatting): while one runs, its scheduler thread serves no
  /// other run. Journaling, retries and compensation are unchanged; an
  /// attempt timeout is refused (nothing could abandon the attempt). Only
  /// ctx.step() has a function to run; on other operations it does nothing.
  op_awaiter&& run_inline() && {
    req_.run_inline = req_.kind == detail::op_kind::activity;
    return std::move(*this);
  }

  bool await_ready() const noexcept { return slot_.ready; }
  void await_suspend(std::coroutine_handle<> waiter) {
    start([waiter] { waiter.resume(); });
  }
  T await_resume() {
    // name_, not req_.name: start() moved req_ away.
    if (slot_.cancelled)
      throw cancelled_error("run " + host_->run_id() + " was cancelled at step " + name_);
    if (slot_.error)
      throw step_failed_error(name_, *slot_.error);
    register_compensation();
    if constexpr (std::is_same_v<T, void>)
      return;
    else if constexpr (is_optional<T>::value)
      return slot_.timed_out ? T{} : T{from_bytes<typename T::value_type>(*slot_.result)};
    else
      return from_bytes<T>(*slot_.result);
  }

  /// For all(): submits unless ready; `notify` runs when the outcome lands.
  void start(std::function<void()> notify) {
    slot_.notify = std::move(notify);
    host_->submit(std::move(req_), slot_);
  }

  /// For all(): once every operation has landed, registers this step's
  /// compensation if it completed, before any sibling's failure is thrown
  /// (the saga must undo every step that took effect). Idempotent.
  void register_compensation() {
    if (undo_ && slot_.ready && !slot_.cancelled && !slot_.error)
      host_->add_compensation(req_.step, name_, std::move(undo_), req_.policy);
    undo_ = nullptr;
  }

private:
  template <class U>
  struct is_optional : std::false_type {};
  template <class U>
  struct is_optional<std::optional<U>> : std::true_type {};

  detail::run_host* host_;
  detail::op_request req_;
  std::string name_;  ///< the step's name, for errors and compensations
  detail::op_slot slot_;
  std::function<void(const step_info&)> undo_;
};

/// Awaits several operations started together; returns their results as a
/// tuple, in argument order (replay order does not depend on which finished
/// first).
template <class... T>
class all_awaiter {
public:
  explicit all_awaiter(op_awaiter<T>&&... ops) : ops_(std::move(ops)...) {}

  bool await_ready() const noexcept {
    return std::apply([](auto&... op) { return (op.await_ready() && ...); }, ops_);
  }
  void await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    remaining_ = 0;
    std::apply([&](auto&... op) { ((remaining_ += op.await_ready() ? 0 : 1), ...); }, ops_);
    std::apply([&](auto&... op) {
      (void)((op.await_ready() ? void() : op.start([this] { arrive(); })), ...);
    }, ops_);
  }
  auto await_resume() {
    std::apply([](auto&... op) { (op.register_compensation(), ...); }, ops_);
    return std::apply([](auto&... op) {
      return std::tuple<result_t<T>...>{resume_one(op)...};
    }, ops_);
  }

private:
  template <class U>
  using result_t = std::conditional_t<std::is_void_v<U>, std::monostate, U>;
  template <class U>
  static result_t<U> resume_one(op_awaiter<U>& op) {
    if constexpr (std::is_void_v<U>) {
      op.await_resume();
      return {};
    } else {
      return op.await_resume();
    }
  }
  void arrive() {
    if (--remaining_ == 0)
      waiter_.resume();
  }

  std::tuple<op_awaiter<T>...> ops_;
  std::coroutine_handle<> waiter_;
  int remaining_ = 0;
};

/// Awaits a dynamic number of operations of one type (fan-out).
template <class T>
class all_of_awaiter {
public:
  explicit all_of_awaiter(std::vector<op_awaiter<T>> ops) : ops_(std::move(ops)) {}

  bool await_ready() const noexcept {
    for (auto& op : ops_)
      if (!op.await_ready())
        return false;
    return true;
  }
  void await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    for (auto& op : ops_)
      remaining_ += op.await_ready() ? 0 : 1;
    for (auto& op : ops_)
      if (!op.await_ready())
        op.start([this] {
          if (--remaining_ == 0)
            waiter_.resume();
        });
  }
  std::vector<T> await_resume() {
    for (auto& op : ops_)
      op.register_compensation();
    std::vector<T> out;
    out.reserve(ops_.size());
    for (auto& op : ops_)
      out.push_back(op.await_resume());
    return out;
  }

private:
  std::vector<op_awaiter<T>> ops_;
  std::coroutine_handle<> waiter_;
  std::size_t remaining_ = 0;
};

class context {
public:
  explicit context(detail::run_host& host) noexcept : host_(&host) {}

  const std::string& run_id() const noexcept { return host_->run_id(); }

  /// A durable step: `fn(args...)` (or `fn(step_info, args...)`) runs on an
  /// activity worker; its result is journaled before the workflow resumes,
  /// and replayed, not re-run, after a restart. Throw endure::fatal_error /
  /// retryable_error / rate_limited_error to classify a failure; any other
  /// exception is retryable.
  template <class F, class... Args>
  auto step(std::string name, F fn, Args... args) {
    using R = step_result_t<F, Args...>;
    detail::op_request req;
    req.kind = detail::op_kind::activity;
    req.name = std::move(name);
    req.input_hash = input_hash(req.name, args...);
    req.body = [fn = std::move(fn), ... args = std::move(args)](const step_info& info) {
      if constexpr (std::is_void_v<R>) {
        invoke(fn, info, args...);
        return nil_bytes();
      } else {
        return to_bytes<R>(invoke(fn, info, args...));
      }
    };
    return op_awaiter<R>{*host_, std::move(req)};
  }

  /// A durable step whose function does not block: `fn(info, done)` starts
  /// the work and calls `done(result_bytes, nullopt)` or
  /// `done(nullopt, failure)` from any thread. Used by the LLM and HTTP
  /// steps so waiting on the network holds no thread.
  template <class R>
  op_awaiter<R> step_async(std::string name, std::uint64_t input_hash,
                           std::function<void(const step_info&, detail::async_done)> fn) {
    return async_op<R>(std::move(name), input_hash, std::move(fn), {});
  }

  /// A durable LLM call: `request` goes to the runtime's model
  /// (runtime_options::llm) and the answer is journaled, with its token
  /// usage and cost, before the workflow resumes; after a restart it is
  /// replayed, never sent again. `request.attempt` is set to the attempt
  /// number (0 first). Failures keep the net layer's class (429
  /// rate_limited honouring Retry-After, 5xx/timeouts retryable, 4xx fatal,
  /// context_length_exceeded; an answer that breaks the schema is fatal),
  /// read by the step's retry policy; `.retry()` and `.compensate_with()`
  /// work as on any step. Unless the policy sets an attempt_timeout, an
  /// attempt is abandoned (and retried) 2 s after the call's own deadline
  /// (request.timeout, else the backend's request_timeout): a backend that
  /// never answers cannot hang the run. No model configured: the step fails
  /// (fatal) with a message naming run and step.
  op_awaiter<net::chat_response> llm(std::string name, net::chat_request request);

  /// A durable HTTP call through the runtime's client (runtime_options::http)
  /// and journaled like llm(). A status below 400 is the result (redirects
  /// are not followed); 4xx/5xx are failures classified like HTTP answers
  /// (429 rate_limited, 408/409/5xx retryable, other 4xx fatal). Unless the
  /// request has one, an `Idempotency-Key` header carries the step's
  /// idempotency key, the same on every attempt. Attempt deadline as for
  /// llm(): the request's timeout (else the client's default_timeout) + 2 s.
  op_awaiter<net::http_response> http(std::string name, net::http_request request);

  /// A durable tool call: the tool `name` of runtime_options::tools runs
  /// with `args` as one step ("tool:NAME"; its input is the canonical JSON of
  /// `args`, so a replay that passes other arguments is caught like any
  /// changed step input), and its JSON result is journaled and replayed,
  /// never re-run. With runtime_options::policy, the policy gate comes first
  /// ("gate:NAME", journaled): a gated call raises a request bound to the
  /// hash of exactly these arguments and waits (passivated) for a person's
  /// decision: approve runs these arguments, edit runs the edited ones,
  /// reject returns {"error": "rejected", "reason", "by"} without running,
  /// respond returns {"response": text, "by"}. Irreversible tools are
  /// attempted once; others retry per the default policy. Arguments that fail the tool's schema, an unknown
  /// tool or no tools configured fail (fatal_error) naming run and tool.
  /// Defined in endure::agent: include "endure/actors/agent/tool_call.hpp"
  /// (nlohmann-json).
  task<nlohmann::json> tool(std::string name, nlohmann::json args);
  /// Asks a person (durably: the run waits, passivated, until someone
  /// answers through the human gateway: runtime::decide with respond,
  /// `endure answer`) and returns the answer's text; with `choices`, the
  /// gateway accepts only an answer that is exactly one of them. The
  /// question's row is journaled before anyone can see it. Steps:
  /// "ask_human", then "decision:ask_human" once answered. Defined in
  /// endure::agent like tool(); the model's ask_human tool (run_agent)
  /// calls it.
  task<std::string> ask_human(std::string question, std::vector<std::string> choices = {},
                              std::string about = {});
  /// The runtime's tools (runtime_options::tools); null when none are.
  /// Defined in endure::agent, like tool().
  const agent::tool_registry* tools() const noexcept;

  /// Durable sleep: survives restarts; a passivated run is woken for it.
  op_awaiter<void> sleep(std::chrono::milliseconds d) {
    detail::op_request req;
    req.kind = detail::op_kind::sleep;
    req.name = "sleep";
    req.duration = d;
    req.input_hash = static_cast<std::uint64_t>(d.count());
    return op_awaiter<void>{*host_, std::move(req)};
  }

  /// Waits for the signal `name` (sent by runtime::signal, even before this
  /// wait or while the process was down; each signal is consumed once).
  /// Returns nullopt if `timeout` (non-zero) passes first.
  template <class T>
  op_awaiter<std::optional<T>> wait_signal(std::string name,
                                           std::chrono::milliseconds timeout = {}) {
    return op_awaiter<std::optional<T>>{*host_, signal_request(std::move(name), timeout)};
  }

  /// Journaled wall-clock time, milliseconds since the Unix epoch.
  op_awaiter<std::int64_t> now();
  /// Journaled uniform random 64-bit number.
  op_awaiter<std::uint64_t> random();
  /// Journaled random UUID (version 4), as text.
  op_awaiter<std::string> uuid();

  /// Starts operations together; `co_await` returns a tuple of results.
  template <class... T>
  all_awaiter<T...> all(op_awaiter<T>&&... ops) {
    return all_awaiter<T...>{std::move(ops)...};
  }
  /// Fan-out over a vector of operations of one type.
  template <class T>
  all_of_awaiter<T> all(std::vector<op_awaiter<T>> ops) {
    return all_of_awaiter<T>{std::move(ops)};
  }

private:
  // The phases of ctx.tool and ctx.ask_human (gate, wait, run), which
  // run_agent drives for a whole model turn at once, reach the runtime's
  // services through it (actors/agent/detail/tool_phases.hpp).
  friend struct agent::detail::context_access;

  static detail::op_request signal_request(std::string name, std::chrono::milliseconds timeout) {
    detail::op_request req;
    req.kind = detail::op_kind::signal;
    req.name = std::move(name);
    req.duration = timeout;
    req.input_hash = hash_bytes(req.name);
    return req;
  }

  template <class F, class... Args>
  static decltype(auto) invoke(const F& fn, const step_info& info, const Args&... args) {
    if constexpr (std::is_invocable_v<const F&, const step_info&, const Args&...>)
      return fn(info, args...);
    else
      return fn(args...);
  }

  template <class F, class... Args>
  using step_result_t = std::decay_t<decltype(invoke(std::declval<const F&>(),
                                                     std::declval<const step_info&>(),
                                                     std::declval<const Args&>()...))>;

  template <class... Args>
  static std::uint64_t input_hash(const std::string& name, const Args&... args) {
    if constexpr (sizeof...(Args) == 0)
      return hash_bytes(name);
    else
    {
      msgpack::sbuffer buf;
      msgpack::packer<msgpack::sbuffer> pk(buf);
      pk.pack(name);
      (pk.pack(args), ...);
      return hash_bytes(std::string_view{buf.data(), buf.size()});
    }
  }

  template <class R>
  op_awaiter<R> async_op(std::string name, std::uint64_t input_hash,
                         std::function<void(const step_info&, detail::async_done)> fn,
                         std::function<step_usage(std::string_view)> usage) {
    detail::op_request req;
    req.kind = detail::op_kind::async;
    req.name = std::move(name);
    req.input_hash = input_hash;
    req.async_body = std::move(fn);
    req.usage = std::move(usage);
    return op_awaiter<R>{*host_, std::move(req)};
  }

  template <class T>
  op_awaiter<T> value_op(std::string name, std::function<std::string()> make) {
    detail::op_request req;
    req.kind = detail::op_kind::value;
    req.name = std::move(name);
    req.input_hash = hash_bytes(req.name);
    req.value = std::move(make);
    return op_awaiter<T>{*host_, std::move(req)};
  }

  detail::run_host* host_;
};

} // namespace endure
