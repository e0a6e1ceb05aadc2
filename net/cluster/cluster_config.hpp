// A cluster's configuration: the nodes (name and address each), which one
// this process is, and the TLS files every node and client presents.
//
//   # cluster.yaml
//   node: a                      # this node (or --node-name); absent for a client
//   tls:                         # required: plain connections are refused
//     certificate: certs/a.pem   # this process's certificate, signed by the CA
//     key: certs/a.key
//     ca: certs/cluster-ca.pem   # the cluster's CA: peers must present a cert it signed
//   reconnect_ms: 200            # how often a node tries a peer that is away
//   failure_detection_ms: 15000  # a peer silent this long is gone (0: when its connection closes)
//   nodes:
//     - {name: a, address: 127.0.0.1:7101}
//     - {name: b, address: 127.0.0.1:7102}
//     - {name: c, address: 127.0.0.1:7103}
//   replication:                 # optional; default mode: none
//     mode: standby              # each node's journal streams to the next node
//                                # (takeover: and the next node runs its runs when it is gone)
//     wait_ms: 2000              # a commit waits this long for an absent standby (standby)
//     takeover_ms: 5000          # gone this long, a node is taken over (takeover)
//     buffer_mib: 256            # stream held for a slow standby, at most (then a copy)
//
// Relative paths are read from the configuration file's directory. A bad
// file is refused naming the file, the line and the field.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::cluster {

struct node_address {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
};

/// The TLS files (PEM): all three are required.
struct tls_files {
  std::string certificate;
  std::string key;
  std::string ca;
  std::string passphrase;  ///< of the key, when it is encrypted
};

/// Journal replication (net/cluster/replication/). With `standby`, each
/// node's journal is streamed to its standby, the node after it in the
/// file's order (the last node's standby is the first), and a commit is
/// acknowledged once the standby has applied it. While the standby is
/// away, a commit waits up to `wait` for it and is then acknowledged on
/// the owner alone (the owner catches the standby up when it returns).
/// A standby that is away or does not keep up costs the owner at most
/// `buffer` bytes of stream in flight and as much held back; past that the
/// owner drops them and sends the standby a copy of its journal.
///
/// With `takeover` (mode takeover; 0 = off) a commit is acknowledged only
/// once the standby applied it, however long that takes, and a step's body
/// runs only once its start is acknowledged so. When the owner has been
/// away for `takeover`, its standby fences it (a marker in its data
/// directory) and runs the owner's runs from the replica; the old owner,
/// when it returns, is refused by the standby and stops.
struct replication_config {
  bool standby = false;
  std::chrono::milliseconds wait{2000};
  std::size_t buffer = std::size_t{256} << 20;
  std::chrono::milliseconds takeover{0};
};

struct cluster_config {
  /// This node's name; empty for a client (`endure --cluster FILE list`).
  std::string self;
  /// Every node, this one included, in the file's order.
  std::vector<node_address> nodes;
  tls_files tls;
  std::chrono::milliseconds reconnect{200};
  /// A peer heard nothing from this long is taken as gone (its connection
  /// is closed; CAF's heartbeats, every fifth of it, keep a live one
  /// busy). 0: only a closed connection tells (a host that vanishes
  /// without closing them is never seen gone). Default: 15 s.
  std::chrono::milliseconds failure_detection{15000};
  replication_config replication;

  /// The node named `name`; null when there is none.
  const node_address* find(std::string_view name) const;
  /// The node `name`'s journal streams to; empty without replication.
  std::string standby_of(std::string_view name) const;
  /// Every node's name, in the file's order.
  std::vector<std::string> names() const;
};

/// Reads and checks a cluster file. `self` (when not empty) overrides the
/// file's `node:`. Errors: invalid_argument naming file, line and field
/// (unknown keys, a duplicate or unknown node, an address that is not
/// HOST:PORT, a TLS file missing, unreadable or not loading with OpenSSL,
/// a key that is not the certificate's), io_error when the file
/// cannot be read.
expected<cluster_config> load_cluster_config(const std::string& file, std::string_view self = {});

/// The same checks on text (for tests and embedding programs); `origin`
/// names it in messages and relative paths are read from `base_dir`.
expected<cluster_config> parse_cluster_config(std::string_view text, std::string_view origin,
                                              const std::string& base_dir,
                                              std::string_view self = {});

} // namespace endure::cluster
