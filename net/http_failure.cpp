// Error taxonomy for HTTP answers. Uses nlohmann only to read the usual
// {"error": {"message", "type", "code"}} shapes (OpenAI, llama.cpp, vLLM,
// Ollama); anything else falls back to quoting the body.
#include "endure/net/http_failure.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

namespace endure::net {

namespace {

using json = nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string json_text(const json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

/// The server's own error message, if the body has one of the usual shapes.
std::string server_message(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {};
  if (auto it = j.find("error"); it != j.end()) {
    if (it->is_string())
      return it->get<std::string>();
    if (it->is_object() && it->contains("message"))
      return json_text((*it)["message"]);
  }
  if (auto it = j.find("message"); it != j.end())
    return json_text(*it);
  if (auto it = j.find("detail"); it != j.end())
    return json_text(*it);
  return {};
}

std::string advice(int status) {
  switch (status) {
    case 400: return "the request was rejected as malformed; fix the request, retrying will not help";
    case 401: return "authentication failed; check the API key environment variable";
    case 403: return "access denied; check the API key's permissions for this model";
    case 404: return "not found; check the base URL (it usually ends in /v1) and the model name";
    case 422: return "the server could not process the request; fix the request";
    case 429: return "rate limited; retry after the indicated delay";
    default: break;
  }
  if (status >= 500)
    return "server error; retry with backoff";
  if (status == 408 || status == 409)
    return "transient conflict or timeout; retry with backoff";
  return "unexpected status";
}

} // namespace

std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty())
    return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; })) {
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size())
      return std::nullopt;
    return std::chrono::milliseconds{std::min(seconds, 365LL * 86400) * 1000};
  }
  // HTTP-date in its three historical forms (RFC 9110 section 5.6.7).
  static constexpr const char* formats[] = {
    "%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"};
  std::string text(value);
  for (const char* format : formats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0')
      continue;
    auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
    return std::max(delta, std::chrono::milliseconds{0});
  }
  return std::nullopt;
}

std::string format_http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::string quote_body(std::string_view body, std::size_t max_chars) {
  std::string out = "'";
  for (char c : body.substr(0, max_chars)) {
    auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : (c == '\n' || c == '\r' || c == '\t' ? ' ' : '?');
  }
  out += body.size() > max_chars ? "...'" : "'";
  out += " (" + std::to_string(body.size()) + " bytes)";
  return out;
}

bool is_context_length_error(std::string_view body) noexcept {
  try {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
      const auto& e = j["error"];
      for (const char* key : {"code", "type"})
        if (e.contains(key) && e[key].is_string()) {
          auto v = e[key].get<std::string>();
          if (v == "context_length_exceeded" || v == "exceed_context_size_error")
            return true;
        }
    }
    // llama.cpp, vLLM, TGI and Ollama say it in prose.
    auto text = lower(body);
    for (const char* phrase :
         {"context_length_exceeded", "maximum context length", "exceeds the available context size",
          "exceed_context_size", "context window", "prompt is too long",
          "input is too long for the model", "too many tokens"})
      if (text.find(phrase) != std::string::npos)
        return true;
  } catch (...) {
    // Only allocation can throw here; treat as "not recognised".
  }
  return false;
}

endure::failure failure_from_response(const http_response& response, std::string_view what) {
  endure::failure f;
  f.http_status = response.status;
  f.cls = classify_http_status(response.status);
  if (response.status != 429 && is_context_length_error(response.body))
    f.cls = failure_class::context_length_exceeded;
  if (response.status == 429 || response.status == 503) {
    if (auto ms = find_header(response.headers, "retry-after-ms")) {
      long long v = 0;
      auto t = trim(*ms);
      if (std::from_chars(t.data(), t.data() + t.size(), v).ec == std::errc{} && v >= 0)
        f.retry_after = std::chrono::milliseconds{v};
    }
    if (!f.retry_after)
      if (auto ra = find_header(response.headers, "retry-after"))
        f.retry_after = parse_retry_after(*ra);
  }
  std::string detail = server_message(response.body);
  f.message = std::string(what) + ": HTTP " + std::to_string(response.status) + ": ";
  if (detail.empty())
    f.message += "body " + quote_body(response.body);
  else
    f.message += "'" + detail.substr(0, 300) + (detail.size() > 300 ? "...'" : "'");
  f.message += f.cls == failure_class::context_length_exceeded
                 ? "; the prompt does not fit the model's context window: shorten or compact it"
                 : "; " + advice(response.status);
  if (f.retry_after)
    f.message += " (server asks to wait " + std::to_string(f.retry_after->count()) + " ms)";
  return f;
}

} // namespace endure::net
