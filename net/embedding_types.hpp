// The plain structs of an OpenAI-compatible embeddings call. Value types.
#pragma once

#include "endure/net/chat_types.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace endure::net {

struct embedding_request {
  /// Texts to embed, one vector each, in order.
  std::vector<std::string> inputs;
  /// Overrides the configured embedding model. Default: empty.
  std::string model;
  /// See chat_request::attempt. Default: 0.
  std::uint32_t attempt = 0;
  /// Per-call deadline; zero means the configured one. Default: zero.
  std::chrono::milliseconds timeout{0};
};

struct embedding_response {
  std::string model;
  /// One vector per input, in input order.
  std::vector<std::vector<float>> vectors;
  token_usage usage;
  double cost_usd = 0.0;
};

} // namespace endure::net
