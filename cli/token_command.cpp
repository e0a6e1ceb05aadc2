// `endure token create NAME --role ROLE | list | revoke NAME`: the bearer
// tokens of the principals who may use endure's HTTP API, kept hashed in
// DATA_DIR/tokens.json (net/auth/token_store.hpp). create prints the token
// once on stdout (so `TOKEN=$(endure token create ...)` captures it) and a
// notice on stderr that it is not shown again. Needs no runtime and no
// journal, so it works next to a running `endure serve`, which sees changes
// through token_store::refresh().
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "endure/actors/utc_time.hpp"
#include "endure/cli/command.hpp"
#include "endure/net/auth/token_store.hpp"

namespace endure::cli {

namespace {

namespace auth = net::auth;

struct token_options {
  std::string name;
  std::string role;
};

// 1 for a store that cannot be opened or a refusal, 2 for bad usage.
int report(const error& e) {
  fail(e.message);
  return e.code == errc::invalid_argument ? 2 : 1;
}

int create_token(const command_env& env, const token_options& o) {
  auto granted = auth::parse_role(o.role);
  if (!granted) {
    fail("unknown role '" + o.role + "': use viewer, approver or admin");
    return 2;
  }
  auto store = auth::token_store::open(env.globals.data_dir);
  if (!store)
    return report(store.error());
  auto token = store->create(o.name, *granted);
  if (!token)
    return report(token.error());
  std::cout << *token << std::endl;
  std::cerr << "endure: token for '" << o.name << "' (" << auth::to_string(*granted)
            << ") created; it is not shown again: store it now\n";
  return 0;
}

int list_tokens(const command_env& env) {
  auto store = auth::token_store::open(env.globals.data_dir);
  if (!store)
    return report(store.error());
  auto entries = store->list();
  if (entries.empty()) {
    std::cout << "no tokens in " << store->file().string()
              << "; create one with: endure token create NAME --role viewer|approver|admin\n";
    return 0;
  }
  int name_w = 4;
  for (auto& e : entries)
    name_w = std::max(name_w, static_cast<int>(e.name.size()));
  std::printf("%-*s %-8s %-24s %s\n", name_w, "NAME", "ROLE", "CREATED", "STATUS");
  for (auto& e : entries)
    std::printf("%-*s %-8s %-24s %s\n", name_w, e.name.c_str(),
                std::string{auth::to_string(e.granted)}.c_str(),
                utc_time_text(e.created_ms).c_str(), e.revoked ? "revoked" : "active");
  return 0;
}

int revoke_token(const command_env& env, const token_options& o) {
  auto store = auth::token_store::open(env.globals.data_dir);
  if (!store)
    return report(store.error());
  auto ok = store->revoke(o.name);
  if (!ok)
    return report(ok.error());
  std::cout << "revoked the token of '" << o.name << "'\n";
  return 0;
}

} // namespace

void add_token_command(CLI::App& app, command_env& env) {
  auto* token = app.add_subcommand(
    "token", "bearer tokens of the principals who may use the HTTP API (kept hashed)");
  token->require_subcommand(1);
  auto o = std::make_shared<token_options>();
  auto* create = token->add_subcommand(
    "create", "make a token for a new principal; it is printed once, never again");
  create->add_option("NAME", o->name, "the principal, e.g. alice")->required();
  create->add_option("--role", o->role, "viewer, approver or admin")->required();
  create->callback([&env, o] { env.exit_code = create_token(env, *o); });
  auto* list = token->add_subcommand("list", "principals, roles, when created, whether revoked");
  list->callback([&env] { env.exit_code = list_tokens(env); });
  auto* revoke = token->add_subcommand("revoke", "refuse a principal's token from now on");
  revoke->add_option("NAME", o->name, "the principal")->required();
  revoke->callback([&env, o] { env.exit_code = revoke_token(env, *o); });
}

} // namespace endure::cli
