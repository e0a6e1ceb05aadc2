// Embeddings wire format, both directions. "input" is always sent as an
// array so one request carries many texts; answers are re-ordered by their
// "index" since the API does not promise order.
#include "net/openai_codec.hpp"

#include "net/http_failure.hpp"

#include <nlohmann/json.hpp>

namespace endure::net {

namespace {

using json = nlohmann::json;

} // namespace

std::string encode_embedding_request(const embedding_request& req, std::string_view model) {
  json j{{"model", req.model.empty() ? std::string(model) : req.model},
         {"input", req.inputs},
         {"encoding_format", "float"}};
  return j.dump();
}

result<embedding_request> decode_embedding_request(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("input"))
    return make_failure(failure_class::fatal,
                        "invalid embeddings request: need a JSON object with 'input': " +
                          quote_body(body, 80), 400);
  embedding_request req;
  req.model = j.value("model", "");
  const auto& input = j["input"];
  if (input.is_string()) {
    req.inputs.push_back(input.get<std::string>());
  } else if (input.is_array()) {
    for (const auto& s : input) {
      if (!s.is_string())
        return make_failure(failure_class::fatal,
                            "invalid embeddings request: 'input' must hold strings", 400);
      req.inputs.push_back(s.get<std::string>());
    }
  } else {
    return make_failure(failure_class::fatal,
                        "invalid embeddings request: 'input' must be a string or array", 400);
  }
  return req;
}

std::string encode_embedding_response(const embedding_response& r) {
  json data = json::array();
  for (std::size_t i = 0; i < r.vectors.size(); ++i)
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", r.vectors[i]}});
  json j{{"object", "list"},
         {"model", r.model},
         {"data", data},
         {"usage", {{"prompt_tokens", r.usage.prompt_tokens}, {"total_tokens", r.usage.total_tokens}}}};
  return j.dump();
}

result<embedding_response> decode_embedding_response(std::string_view body, std::size_t inputs,
                                                     std::string_view what) {
  auto malformed = [&](const std::string& why) {
    return make_failure(failure_class::retryable,
                        std::string(what) + ": the answer is not an embeddings list (" + why +
                          "): " + quote_body(body) +
                          "; check that base_url points at an OpenAI-compatible API");
  };
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
    return malformed("no 'data' array");
  embedding_response out;
  out.model = j.value("model", "");
  out.vectors.resize(inputs);
  std::size_t filled = 0;
  for (const auto& item : j["data"]) {
    if (!item.is_object() || !item.contains("embedding") || !item["embedding"].is_array())
      return malformed("an item has no 'embedding' array");
    auto index = item.value("index", filled);
    if (index >= inputs || !out.vectors[index].empty())
      return malformed("bad or repeated 'index' " + std::to_string(index));
    for (const auto& x : item["embedding"]) {
      if (!x.is_number())
        return malformed("a vector holds a non-number");
      out.vectors[index].push_back(x.get<float>());
    }
    ++filled;
  }
  if (filled != inputs)
    return malformed(std::to_string(filled) + " vectors for " + std::to_string(inputs) + " inputs");
  if (j.contains("usage") && j["usage"].is_object()) {
    out.usage.prompt_tokens = j["usage"].value("prompt_tokens", std::uint64_t{0});
    out.usage.total_tokens = j["usage"].value("total_tokens", out.usage.prompt_tokens);
  }
  return out;
}

} // namespace endure::net
