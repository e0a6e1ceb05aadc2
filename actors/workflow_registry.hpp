// Workflows by name. A workflow is any callable `task<Out>(context&, In)`
// with msgpack-serializable In and Out; the registry erases it to bytes in,
// bytes out, so the runtime can start and recover runs by name.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/context.hpp"

namespace endure {

/// A workflow erased to msgpack input -> msgpack result.
using erased_workflow = std::function<task<std::string>(context&, std::string)>;

namespace detail {

template <class In, class F>
task<std::string> call_erased(F fn, context& ctx, std::string input) {
  using out_t = typename decltype(fn(ctx, std::declval<In>()))::promise_type;
  In in = from_bytes<In>(input);
  if constexpr (std::is_same_v<out_t, task_promise<void>>) {
    co_await fn(ctx, std::move(in));
    co_return nil_bytes();
  } else {
    auto out = co_await fn(ctx, std::move(in));
    co_return to_bytes(out);
  }
}

template <class F>
struct workflow_input;
template <class R, class In>
struct workflow_input<R (*)(context&, In)> {
  using type = std::decay_t<In>;
};

} // namespace detail

class workflow_registry {
public:
  /// Registers a workflow function `task<Out> fn(context&, In)`. Replaces
  /// an earlier one of the same name.
  template <class R, class In>
  void add(std::string name, R (*fn)(context&, In)) {
    add_as<std::decay_t<In>>(std::move(name), fn);
  }

  /// Registers any callable taking (context&, In); In given explicitly.
  template <class In, class F>
  void add_as(std::string name, F fn) {
    workflows_[std::move(name)] = [fn](context& ctx, std::string input) {
      return detail::call_erased<In>(fn, ctx, std::move(input));
    };
  }

  /// The workflow, or nullptr.
  const erased_workflow* find(std::string_view name) const {
    auto it = workflows_.find(std::string{name});
    return it == workflows_.end() ? nullptr : &it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (auto& [name, _] : workflows_)
      out.push_back(name);
    return out;
  }

private:
  std::map<std::string, erased_workflow> workflows_;
};

} // namespace endure
