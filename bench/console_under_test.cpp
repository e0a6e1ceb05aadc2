// The console bench/console measures (console_under_test.hpp).
#include "bench/console_under_test.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <stdexcept>

#include "bench/gateway_workload.hpp"
#include "endure/actors/system_settings.hpp"
#include "endure/net/auth/token_store.hpp"
#include "endure/net/console/console_api.hpp"
#include "endure/net/console/console_server.hpp"
#include "endure/net/console/event_stream.hpp"

namespace endure::bench {

namespace {

task<int> steps(context& ctx, int n) {
  int sum = 0;
  for (int i = 0; i < steps_per_run; ++i)
    sum += co_await ctx.step("step " + std::to_string(i), [n, i] { return n + i; });
  co_return sum;
}

template <class T>
T checked(expected<T> v) {
  if (!v)
    throw std::runtime_error(v.error().message);
  return std::move(*v);
}

} // namespace

struct console_under_test::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<runtime> rt;
  std::unique_ptr<net::auth::token_store> tokens;
  std::string token;
  std::unique_ptr<console::console_api> api;
  std::unique_ptr<console::console_server> server;
};

console_under_test::console_under_test(const std::string& dir, std::size_t max_connections)
  : impl_(std::make_unique<impl>()) {
  auto& p = *impl_;
  apply_recommended_settings(p.cfg);
  p.sys = std::make_unique<caf::actor_system>(p.cfg);
  workflow_registry workflows;
  register_gated_workflow(workflows);
  workflows.add(steps_workflow, &steps);
  using namespace std::chrono_literals;
  p.rt = checked(runtime::open(*p.sys, gated_options(dir, "sync", 60s, 8), std::move(workflows)));
  p.tokens = std::make_unique<net::auth::token_store>(checked(net::auth::token_store::open(dir)));
  p.token = checked(p.tokens->create(approver, net::auth::role::approver));
  p.api = std::make_unique<console::console_api>(*p.tokens, 10s, console::event_stream_options{});
  p.api->attach(*p.rt);
  auto* api = p.api.get();
  console::server_options o;
  o.max_connections = max_connections;
  p.server = checked(console::console_server::start(
    o, [api](const console::http_request& r) { return api->handle(r); },
    [api](const console::http_request& r) { return api->answer_now(r); }));
  watch_commits(&p.rt->store());
}

console_under_test::~console_under_test() {
  watch_commits(nullptr);
  impl_->server.reset();
  impl_->api->detach();
  impl_->rt.reset();
}

runtime& console_under_test::rt() { return *impl_->rt; }
std::uint16_t console_under_test::port() const { return impl_->server->port(); }
const std::string& console_under_test::token() const { return impl_->token; }
std::size_t console_under_test::open_connections() const {
  return impl_->server->open_connections();
}

std::string url_id(const std::string& id) {
  std::string out;
  for (char c : id)
    out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

} // namespace endure::bench
