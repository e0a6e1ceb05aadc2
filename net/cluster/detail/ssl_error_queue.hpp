// A fix for a defect of caf_openssl 0.17.6 that cuts healthy connections.
// OpenSSL keeps one error queue per thread; SSL_get_error() answers
// SSL_ERROR_SSL whenever that queue is not empty, whichever connection put
// the error there. CAF's openssl session never clears it (its only drain,
// get_ssl_error(), sits inside a log macro compiled out of Debian's build),
// so once one peer's connection fails (a node killed: "unexpected eof"),
// the next read on any other connection of the multiplexer thread that
// would merely block is taken for a failure and that connection is closed:
// killing one node cut the links between the others. The definitions in
// ssl_error_queue.cpp interpose SSL_read, SSL_write, SSL_connect and
// SSL_accept for the whole process and clear the calling thread's queue
// first, as OpenSSL's documentation asks of every caller (Asio does the same
// for Beast's TLS, so the console is unaffected). Internal.
#pragma once

namespace endure::cluster::detail {

/// Called where the cluster starts, so the linker keeps the interposing
/// definitions (they live in the same object file). Returns true.
bool ssl_error_queue_fix_linked() noexcept;

} // namespace endure::cluster::detail
