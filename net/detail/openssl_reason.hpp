// OpenSSL's reason for the last failure on this thread, for messages
// people read: " (REASON)" with the most specific entry of the thread's
// error queue, or "" when the queue is empty. Empties the queue. Internal to
// endure's TLS code (the console's server, the cluster file's checks).
#pragma once

#include <string>

namespace endure::net::detail {

std::string openssl_reason();

} // namespace endure::net::detail
