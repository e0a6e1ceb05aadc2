// Helpers for the net tests: await a callback-style result with a bounded
// wait (no sleeps), and make self-signed certificates with the OpenSSL C
// API (the `openssl` binary may not be installed).
#pragma once

#include "endure/net/result.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace endure::test {

/// Calls `start(callback)` and waits (at most `limit`) for the callback.
template <class T, class Start>
net::result<T> await_result(Start&& start, std::chrono::milliseconds limit = std::chrono::seconds{20}) {
  auto promise = std::make_shared<std::promise<net::result<T>>>();
  auto future = promise->get_future();
  start([promise](net::result<T> r) { promise->set_value(std::move(r)); });
  REQUIRE(future.wait_for(limit) == std::future_status::ready);
  return future.get();
}

struct test_certificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

/// A self-signed P-256 certificate valid for a day, CN=`common_name`, with
/// the given subjectAltName entries ("IP:127.0.0.1", "DNS:localhost").
test_certificate make_self_signed(const std::string& common_name,
                                  const std::vector<std::string>& alt_names);

} // namespace endure::test
