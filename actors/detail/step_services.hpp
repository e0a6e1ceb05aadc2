// The clients steps reach the outside world with: the LLM backend ctx.llm
// calls, the HTTP client ctx.http sends with and the tools ctx.tool runs. Owned by the runtime,
// shared by every run actor of it, outliving them all. Internal.
//
// Threads: any. The backend is fixed at construction; the HTTP client, when
// none was given, is made on first use (under a mutex), so a runtime whose
// workflows never call ctx.http starts no io thread for it.
#pragma once

#include <memory>
#include <mutex>

namespace endure::net {
class llm_backend;
class http_client;
} // namespace endure::net

namespace endure::agent {
class tool_registry;
} // namespace endure::agent

namespace endure::detail {

class step_services {
public:
  step_services(std::shared_ptr<net::llm_backend> llm, std::shared_ptr<net::http_client> http,
                std::shared_ptr<const agent::tool_registry> tools)
    : llm_(std::move(llm)), tools_(std::move(tools)), http_(std::move(http)) {}

  /// The configured model; null when none is.
  const std::shared_ptr<net::llm_backend>& llm() const noexcept { return llm_; }

  /// The configured tools; null when none are.
  const agent::tool_registry* tools() const noexcept { return tools_.get(); }

  /// The configured client, or one with default options made now.
  std::shared_ptr<net::http_client> http();

private:
  std::shared_ptr<net::llm_backend> llm_;
  std::shared_ptr<const agent::tool_registry> tools_;
  std::mutex mutex_;
  std::shared_ptr<net::http_client> http_;
};

} // namespace endure::detail
