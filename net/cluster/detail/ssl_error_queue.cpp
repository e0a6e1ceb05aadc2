// The interposed OpenSSL calls (ssl_error_queue.hpp): clear this thread's
// error queue, then call libssl's own function (looked up once with
// dlsym(RTLD_NEXT)).
#include "endure/net/cluster/detail/ssl_error_queue.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace endure::cluster::detail {

bool ssl_error_queue_fix_linked() noexcept { return true; }

namespace {

/// libssl's definition after this one. None is there when libssl comes
/// before this object in the lookup order (endure_cluster inside a shared
/// object loaded after libssl) or the program is static: say so and stop
/// rather than call address 0.
template <class F>
F next_definition(const char* name) {
  auto f = reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
  if (!f) {
    std::fprintf(stderr,
                 "endure_cluster: no libssl %s after the interposed one (ssl_error_queue.hpp); "
                 "link libssl dynamically, after endure_cluster\n",
                 name);
    std::abort();
  }
  return f;
}

} // namespace
} // namespace endure::cluster::detail

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  using fn = int (*)(SSL*, void*, int);
  static const fn real = endure::cluster::detail::next_definition<fn>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  using fn = int (*)(SSL*, const void*, int);
  static const fn real = endure::cluster::detail::next_definition<fn>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  using fn = int (*)(SSL*);
  static const fn real = endure::cluster::detail::next_definition<fn>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  using fn = int (*)(SSL*);
  static const fn real = endure::cluster::detail::next_definition<fn>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"
