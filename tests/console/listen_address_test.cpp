// `endure serve --http ADDR:PORT`: loopback IPv4 or bracketed IPv6 with a
// port; anything else, and any address that is not loopback unless the
// console speaks TLS, is refused with a message that says what to give
// instead.
#include <catch2/catch.hpp>

#include "endure/net/console/listen_address.hpp"

using namespace endure;
using endure::console::parse_listen_address;

SCENARIO("an address that is not loopback is refused without TLS", "[console][listen]") {
  for (auto text : {"0.0.0.0:8080", "192.168.1.5:80", "[::]:8080", "[2001:db8::1]:1"}) {
    CAPTURE(text);
    auto a = parse_listen_address(text);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == errc::invalid_argument);
    CHECK_THAT(a.error().message, Catch::Contains("not a loopback address")
                                    && Catch::Contains("--tls-cert")
                                    && Catch::Contains("--tls-key")
                                    && Catch::Contains("127.0.0.1"));
  }
}

SCENARIO("with TLS any IP address is accepted and malformed ones are still refused",
         "[console][listen]") {
  auto any = parse_listen_address("0.0.0.0:8443", true);
  REQUIRE(any);
  CHECK(any->host == "0.0.0.0");
  CHECK(any->port == 8443);
  auto v6 = parse_listen_address("[2001:db8::1]:443", true);
  REQUIRE(v6);
  CHECK(v6->host == "2001:db8::1");
  CHECK(parse_listen_address("[::1]:0", true));
  for (auto text : {"localhost:8443", "0.0.0.0", "::8443"})
    CHECK_FALSE(parse_listen_address(text, true));
}

SCENARIO("malformed listen addresses are refused with the expected form", "[console][listen]") {
  for (auto text : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536",
                    "127.0.0.1:-1", "localhost:8080", "::1:8080", ":8080", "127.0.0.1:80 "}) {
    CAPTURE(text);
    auto a = parse_listen_address(text);
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("ADDRESS:PORT"));
  }
}

SCENARIO("loopback addresses parse, port 0 included", "[console][listen]") {
  auto v4 = parse_listen_address("127.0.0.1:0");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 0);
  auto other = parse_listen_address("127.1.2.3:8080");
  REQUIRE(other);
  CHECK(other->port == 8080);
  auto v6 = parse_listen_address("[::1]:65535");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
}
