// What the two Beast servers (net/fake_openai_server.cpp and
// net/console/console_server.cpp) share about their Asio coroutines: a
// completion token that puts the error into `ec` instead of throwing, and a
// co_spawn completion handler that logs what ended a coroutine (co_spawn
// with `detached` would swallow it: /work/shared/PITFALLS.md). Include only
// from those .cpp files: it pulls in Asio.
#pragma once

#include <utility>  // before asio/awaitable.hpp: Boost 1.74 needs std::exchange

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <exception>
#include <string>

#include "endure/persistence/log.hpp"

namespace endure::net::detail {

inline auto awaitable_ec(boost::system::error_code& ec) {
  return boost::asio::redirect_error(boost::asio::use_awaitable, ec);
}

/// A co_spawn completion handler: logs the exception that ended the
/// coroutine, if any, as "WHO: a connection ended with: WHAT".
inline auto exception_logger(std::string who) {
  return [who = std::move(who)](std::exception_ptr e) {
    if (!e)
      return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error(who + ": a connection ended with: " + x.what());
    } catch (...) {
      log::error(who + ": a connection ended with a non-exception");
    }
  };
}

} // namespace endure::net::detail
