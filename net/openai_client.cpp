// See openai_client.hpp. Encoding, decoding and classification live in
// openai_codec and detail/answer; this file only wires them to HTTP. The
// callbacks handed to the HTTP client cannot throw before `done` runs:
// detail::chat_answer / embedding_answer turn anything into a result.
#include "endure/net/openai_client.hpp"

#include "endure/net/detail/answer.hpp"
#include "endure/net/openai_codec.hpp"
#include "endure/net/url.hpp"

#include <cstdlib>
#include <stdexcept>

namespace endure::net {

namespace {

http_client_options http_options_for(const llm_config& config) {
  http_client_options o;
  o.default_timeout = config.request_timeout;
  o.max_response_bytes = config.max_response_bytes;
  o.tls = config.tls;
  return o;
}

std::string trimmed_base(std::string base) {
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base;
}

} // namespace

openai_client::openai_client(llm_config config, std::shared_ptr<http_client> http)
  : http_(std::move(http)) {
  auto s = std::make_shared<settings>();
  s->config = std::move(config);
  s->config.base_url = trimmed_base(s->config.base_url);
  if (auto u = parse_url(s->config.base_url); !u)
    throw std::invalid_argument("llm_config.base_url: " + u.error().message);
  if (!s->config.api_key_env.empty())
    if (const char* key = std::getenv(s->config.api_key_env.c_str()))
      s->api_key = key;
  if (!http_)
    http_ = std::make_shared<http_client>(http_options_for(s->config));
  name_ = "openai-compatible " + s->config.base_url +
          (s->config.model.empty() ? "" : " " + s->config.model);
  settings_ = std::move(s);
}

openai_client::~openai_client() = default;

http_request openai_client::post(const std::string& path, std::string body,
                                 std::chrono::milliseconds timeout) const {
  http_request req;
  req.method = "POST";
  const auto& config = settings_->config;
  req.url = config.base_url + path;
  req.body = std::move(body);
  req.timeout = timeout.count() > 0 ? timeout : config.request_timeout;
  req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"Accept", "application/json"});
  if (!settings_->api_key.empty())
    req.headers.push_back({"Authorization", "Bearer " + settings_->api_key});
  for (const auto& h : config.extra_headers)
    req.headers.push_back(h);
  return req;
}

void openai_client::chat(chat_request request, chat_callback done) {
  auto body = encode_chat_request(request, settings_->config.model);
  if (!body) {
    done(std::move(body).error()); // a caller bug: report at once, on the caller's thread
    return;
  }
  auto http_req = post("/chat/completions", std::move(*body), request.timeout);
  std::string what = "chat completion at " + http_req.url;
  // Captures the settings, not `this`: a shared http_client may outlive us.
  http_->send(std::move(http_req), [s = settings_, request = std::move(request),
                                    what = std::move(what),
                                    done = std::move(done)](result<http_response> r) {
    done(detail::chat_answer(r, request, s->config, what, s->api_key)); // never throws
  });
}

void openai_client::embed(embedding_request request, embed_callback done) {
  const auto& config = settings_->config;
  const std::string& model = config.embedding_model.empty() ? config.model : config.embedding_model;
  auto http_req = post("/embeddings", encode_embedding_request(request, model), request.timeout);
  std::string what = "embeddings at " + http_req.url;
  // Captures the settings, not `this`: a shared http_client may outlive us.
  http_->send(std::move(http_req), [s = settings_, request = std::move(request),
                                    what = std::move(what),
                                    done = std::move(done)](result<http_response> r) {
    done(detail::embedding_answer(r, request, s->config, what, s->api_key)); // never throws
  });
}

} // namespace endure::net
