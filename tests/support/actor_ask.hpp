// Asking an actor from a test's own thread, as a client of the service
// protocol would: one request, its answer as T or the endure error it
// failed with. Test thread only (a scoped actor blocks it).
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <utility>

#include "endure/actors/service/protocol.hpp"
#include "endure/persistence/error.hpp"

namespace endure::test {

/// Sends `xs...` to `to` and waits up to 30 s: the answer, or the error
/// (an unanswered request ends as errc::timeout).
template <class T, class... Ts>
expected<T> ask(caf::actor_system& sys, const caf::actor& to, Ts&&... xs) {
  caf::scoped_actor self{sys};
  expected<T> out = make_error(errc::timeout, "no answer");
  self->request(to, std::chrono::seconds{30}, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& e) { out = service::error_of(e, "request"); });
  return out;
}

} // namespace endure::test
