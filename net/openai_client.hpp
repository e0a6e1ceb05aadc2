// llm_backend for any OpenAI-compatible HTTP endpoint (OpenAI, llama.cpp
// server, vLLM, Ollama): POST {base_url}/chat/completions and
// {base_url}/embeddings over the shared http_client.
//
// Ownership: holds a shared_ptr to an http_client (its own unless one is
// passed in, so several backends can share connections and one io thread).
// Callbacks run on that client's thread. The API key is read from the
// environment variable named in the config when the object is made, sent
// as "Authorization: Bearer ...", and scrubbed from every failure message.
#pragma once

#include "endure/net/http_client.hpp"
#include "endure/net/llm_backend.hpp"

#include <memory>
#include <string>

namespace endure::net {

class openai_client final : public llm_backend {
public:
  /// Fails fast with std::invalid_argument (message says which field) when
  /// config.base_url is not an http(s) URL.
  explicit openai_client(llm_config config, std::shared_ptr<http_client> http = nullptr);
  ~openai_client() override;

  const std::string& name() const noexcept override { return name_; }
  void chat(chat_request request, chat_callback done) override;
  void embed(embedding_request request, embed_callback done) override;
  std::chrono::milliseconds default_timeout() const noexcept override {
    return settings_->config.request_timeout;
  }

  /// True when an API key was found in the configured variable.
  bool has_api_key() const noexcept { return !settings_->api_key.empty(); }

  const http_client& http() const noexcept { return *http_; }

private:
  http_request post(const std::string& path, std::string body,
                    std::chrono::milliseconds timeout) const;

  /// Immutable after construction; shared with callbacks in flight.
  struct settings {
    llm_config config;
    std::string api_key;
  };
  std::shared_ptr<const settings> settings_;
  std::string name_;
  std::shared_ptr<http_client> http_;
};

} // namespace endure::net
