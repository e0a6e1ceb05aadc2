// Reading a cluster file (cluster_config.hpp) with the strict YAML reader
// the policy uses (field paths, line and column in every error).
#include "endure/net/cluster/cluster_config.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "endure/actors/gateway/detail/yaml_reader.hpp"
#include "endure/net/detail/openssl_reason.hpp"

namespace endure::cluster {

namespace {

using net::detail::openssl_reason;

namespace fs = std::filesystem;
using gateway::detail::find_entry;
using gateway::detail::located;
using gateway::detail::policy_error;
using gateway::detail::yaml_field;

/// "HOST:PORT" (port 1-65535) of field `f`.
void read_address(const yaml_field& f, node_address& out) {
  auto text = f.text("an address HOST:PORT");
  auto colon = text.rfind(':');
  unsigned port = 0;
  auto digits = colon == std::string::npos ? std::string{} : text.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (colon == std::string::npos || colon == 0 || digits.empty() || ec != std::errc{}
      || end != digits.data() + digits.size() || port == 0 || port > 65535)
    f.fail("expected HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:7101, not '" + text
           + "'");
  out.host = text.substr(0, colon);
  out.port = static_cast<std::uint16_t>(port);
}

/// A TLS file's path, made absolute against `base` and checked readable.
std::string read_file_path(const yaml_field& f, const std::string& base, std::string_view what) {
  auto text = f.text(what);
  fs::path p{text};
  if (p.is_relative())
    p = fs::path{base} / p;
  std::ifstream in{p};
  if (text.empty() || !in)
    f.fail("cannot read " + std::string{what} + " '" + p.string() + "'");
  return p.string();
}


/// Hands OpenSSL the key's passphrase (never a terminal prompt).
int passphrase_cb(char* buf, int size, int, void* user) {
  auto& pass = *static_cast<const std::string*>(user);
  if (pass.empty() || static_cast<int>(pass.size()) > size)
    return 0;
  pass.copy(buf, pass.size());
  return static_cast<int>(pass.size());
}

/// Loads the files the way caf_openssl will (certificate chain, private key,
/// CA), so a file that exists but does not load is refused here: caf_openssl
/// loads them only at the first connection and then throws on its
/// multiplexer thread, which ends the process.
void check_tls_loads(const tls_files& tls, const gateway::detail::map_entry& cert,
                     const gateway::detail::map_entry& key, const gateway::detail::map_entry& ca) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), &SSL_CTX_free};
  if (!ctx)
    cert.value.fail("cannot set up OpenSSL to check the TLS files" + openssl_reason());
  SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<std::string*>(&tls.passphrase));
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str()) != 1)
    cert.value.fail("'" + tls.certificate + "' is not a PEM certificate" + openssl_reason());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM) != 1)
    key.value.fail("'" + tls.key + "' does not load as the certificate's PEM private key (is it "
                   "that key, and when encrypted, is passphrase: right?)" + openssl_reason());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    key.value.fail("'" + tls.key + "' does not match the certificate '" + tls.certificate + "'"
                   + openssl_reason());
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
    ca.value.fail("'" + tls.ca + "' is not a PEM CA certificate" + openssl_reason());
}

tls_files read_tls(const yaml_field& f, const std::string& base) {
  tls_files out;
  auto es = f.entries({"certificate", "key", "ca", "passphrase"}, "the TLS files");
  for (auto name : {"certificate", "key", "ca"})
    if (!find_entry(es, name))
      f.fail_at(name, "is required: nodes speak TLS only, each with a certificate signed by the "
                      "cluster's CA");
  out.certificate = read_file_path(find_entry(es, "certificate")->value, base, "a PEM certificate");
  out.key = read_file_path(find_entry(es, "key")->value, base, "a PEM private key");
  out.ca = read_file_path(find_entry(es, "ca")->value, base, "the CA's PEM certificate");
  if (auto* e = find_entry(es, "passphrase"))
    out.passphrase = e->value.text("the key's passphrase");
  check_tls_loads(out, *find_entry(es, "certificate"), *find_entry(es, "key"),
                  *find_entry(es, "ca"));
  return out;
}

std::vector<node_address> read_nodes(const yaml_field& f) {
  std::vector<node_address> out;
  std::set<std::string> names, addresses;
  for (auto& item : f.items("the cluster's nodes")) {
    auto es = item.entries({"name", "address"}, "a node: {name: NAME, address: HOST:PORT}");
    auto* name = find_entry(es, "name");
    auto* address = find_entry(es, "address");
    if (!name || !address)
      item.fail("a node needs name: and address:");
    node_address n;
    n.name = name->value.text("a node name");
    // Names become directory names (a standby's DATA_DIR/replicas/NAME).
    if (n.name.empty() || n.name.size() > 64 || n.name.front() == '.'
        || n.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                    "_.-")
             != std::string::npos)
      name->value.fail("a node name is 1-64 letters, digits, '_', '-' and '.', not starting with "
                       "'.'");
    if (!names.insert(n.name).second)
      name->value.fail("node '" + n.name + "' is listed twice");
    read_address(address->value, n);
    if (!addresses.insert(n.host + ":" + std::to_string(n.port)).second)
      address->value.fail("two nodes cannot share the address " + n.host + ":"
                          + std::to_string(n.port));
    out.push_back(std::move(n));
  }
  if (out.empty())
    f.fail("lists no node");
  return out;
}

replication_config read_replication(const yaml_field& f, std::size_t node_count) {
  replication_config out;
  auto es = f.entries({"mode", "wait_ms", "buffer_mib", "takeover_ms"},
                      "{mode: none|standby|takeover, wait_ms: N, buffer_mib: N, takeover_ms: N}");
  std::string mode = "none";
  if (auto* e = find_entry(es, "mode")) {
    mode = e->value.text("none, standby or takeover");
    if (mode != "none" && mode != "standby" && mode != "takeover")
      e->value.fail("is none, standby or takeover, not '" + mode + "'");
    out.standby = mode != "none";
    if (out.standby && node_count < 2)
      e->value.fail(mode + " needs a second node to be the standby");
    if (mode == "takeover" && node_count < 3)
      e->value.fail("takeover needs at least 3 nodes: a node is taken over only when a "
                    "majority of the nodes sees it gone");
    if (mode == "takeover")
      out.takeover = std::chrono::milliseconds{5000};
  }
  if (auto* e = find_entry(es, "wait_ms")) {
    if (mode == "takeover")
      e->value.fail("does not apply to mode takeover: there a commit waits for the standby "
                    "however long (acknowledged on the owner alone, it could be lost in a "
                    "takeover)");
    auto ms = e->value.integer("milliseconds");
    if (ms < 0 || ms > 3'600'000)
      e->value.fail("is from 0 to 3600000 milliseconds");
    out.wait = std::chrono::milliseconds{ms};
  }
  if (auto* e = find_entry(es, "takeover_ms")) {
    if (mode != "takeover")
      e->value.fail("applies to mode takeover only");
    auto ms = e->value.integer("milliseconds");
    if (ms < 100 || ms > 86'400'000)
      e->value.fail("is from 100 to 86400000 milliseconds");
    out.takeover = std::chrono::milliseconds{ms};
  }
  if (auto* e = find_entry(es, "buffer_mib")) {
    auto mib = e->value.integer("MiB");
    if (mib < 1 || mib > 65'536)
      e->value.fail("is from 1 to 65536 MiB");
    out.buffer = static_cast<std::size_t>(mib) << 20;
  }
  return out;
}

cluster_config read_config(const yaml_field& root, const std::string& base, std::string_view self) {
  auto es = root.entries({"node", "tls", "nodes", "reconnect_ms", "failure_detection_ms",
                          "replication"},
                         "a map with nodes:, tls: and (for a node) node:");
  cluster_config out;
  auto* nodes = find_entry(es, "nodes");
  if (!nodes)
    root.fail_at("nodes", "is required: every node's name and address");
  out.nodes = read_nodes(nodes->value);
  auto* tls = find_entry(es, "tls");
  if (!tls)
    root.fail_at("tls", "is required: nodes speak TLS only (certificate, key, ca)");
  out.tls = read_tls(tls->value, base);
  if (auto* e = find_entry(es, "reconnect_ms")) {
    auto ms = e->value.integer("milliseconds");
    if (ms < 10 || ms > 60'000)
      e->value.fail("is from 10 to 60000 milliseconds");
    out.reconnect = std::chrono::milliseconds{ms};
  }
  if (auto* e = find_entry(es, "failure_detection_ms")) {
    auto ms = e->value.integer("milliseconds");
    if (ms != 0 && (ms < 100 || ms > 3'600'000))
      e->value.fail("is 0 (a connection's close only) or from 100 to 3600000 milliseconds");
    out.failure_detection = std::chrono::milliseconds{ms};
  }
  if (auto* e = find_entry(es, "replication"))
    out.replication = read_replication(e->value, out.nodes.size());
  if (auto* e = find_entry(es, "node")) {
    out.self = e->value.text("this node's name");
    if (self.empty() && !out.find(out.self))
      e->value.fail("names '" + out.self + "', which is not among nodes:");
  }
  if (!self.empty())
    out.self = std::string{self};
  return out;
}

} // namespace

const node_address* cluster_config::find(std::string_view name) const {
  for (auto& n : nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

std::string cluster_config::standby_of(std::string_view name) const {
  if (!replication.standby || nodes.size() < 2)
    return {};
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name)
      return nodes[(i + 1) % nodes.size()].name;
  return {};
}

std::vector<std::string> cluster_config::names() const {
  std::vector<std::string> out;
  for (auto& n : nodes)
    out.push_back(n.name);
  return out;
}

expected<cluster_config> parse_cluster_config(std::string_view text, std::string_view origin,
                                              const std::string& base_dir, std::string_view self) {
  try {
    auto root = YAML::Load(std::string{text});
    if (root.IsNull())
      throw policy_error{0, 0, "", "the file is empty: it needs nodes: and tls:"};
    auto out = read_config(yaml_field{root, ""}, base_dir, self);
    if (!self.empty() && !out.find(self))
      return make_error(errc::invalid_argument,
                        std::string{origin} + ": node '" + std::string{self}
                          + "' is not among its nodes: " + [&] {
                              std::string all;
                              for (auto& n : out.nodes)
                                all += (all.empty() ? "" : ", ") + n.name;
                              return all;
                            }());
    return out;
  } catch (const policy_error& e) {
    return make_error(errc::invalid_argument, located(origin, e));
  } catch (const YAML::Exception& e) {
    return make_error(errc::invalid_argument,
                      located(origin, {e.mark.line + 1, e.mark.column + 1, "",
                                       "not valid YAML: " + e.msg}));
  }
}

expected<cluster_config> load_cluster_config(const std::string& file, std::string_view self) {
  std::ifstream in{file};
  if (!in || fs::is_directory(file))
    return make_error(errc::io_error, file + ": cannot read the cluster file");
  std::stringstream text;
  text << in.rdbuf();
  auto base = fs::absolute(fs::path{file}).parent_path().string();
  return parse_cluster_config(text.str(), file, base, self);
}

} // namespace endure::cluster
