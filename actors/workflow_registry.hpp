// Workflows by name. A workflow is any callable `task<Out>(context&, In)`
// with msgpack-serializable In and Out; the registry erases it to bytes in,
// bytes out, so the runtime can start and recover runs by name. For callers
// that build an input outside C++ (the CLI turns --input JSON into msgpack)
// it also keeps, per workflow, what In looks like, whether given bytes
// decode as In, and In's default value. Filled before a runtime opens, read
// only afterwards (from any thread).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/context.hpp"
#include "endure/actors/detail/type_label.hpp"

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

/// True if msgpack `bytes` hold exactly one value that converts to In.
template <class In>
bool decodes_as(std::string_view bytes) {
  try {
    // Limits: the bytes may come from outside (see PITFALLS: msgpack).
    msgpack::unpack_limit limit{1 << 20, 1 << 20, 64 << 20, 64 << 20, 1 << 20, 64};
    std::size_t offset = 0;
    auto h = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    (void)h.get().as<In>();
    return offset == bytes.size();
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace detail

/// A workflow's input as seen by a caller that builds it from outside C++.
struct workflow_input {
  /// What the input must be, for people: "a string", "an integer", "an
  /// array of integers", or the C++ type's name with its msgpack layout.
  std::string type;
  /// True if msgpack bytes decode as the input type.
  std::function<bool(std::string_view)> decodes;
  /// msgpack of the input type's default value (In{}); nullopt if In has
  /// no default constructor.
  std::optional<std::string> default_value;
};

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
    workflow_input in{detail::type_label<In>(), &detail::decodes_as<In>, std::nullopt};
    if constexpr (std::is_default_constructible_v<In>)
      in.default_value = to_bytes(In{});
    inputs_[name] = std::move(in);
    workflows_[std::move(name)] = [fn](context& ctx, std::string input) {
      return detail::call_erased<In>(fn, ctx, std::move(input));
    };
  }

  /// The workflow, or nullptr.
  const erased_workflow* find(std::string_view name) const {
    auto it = workflows_.find(std::string{name});
    return it == workflows_.end() ? nullptr : &it->second;
  }

  /// The workflow's input description, or nullptr if no such workflow.
  const workflow_input* input(std::string_view name) const {
    auto it = inputs_.find(std::string{name});
    return it == inputs_.end() ? nullptr : &it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (auto& [name, _] : workflows_)
      out.push_back(name);
    return out;
  }

private:
  std::map<std::string, erased_workflow> workflows_;
  std::map<std::string, workflow_input> inputs_;
};

} // namespace endure
