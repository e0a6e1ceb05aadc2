// Embeddings wire format, both directions. "input" is always sent as an
// array so one request carries many texts; answers are re-ordered by their
// "index" since the API does not promise order. Every field of an answer is
// type-checked before use (detail/json_answer.hpp); nothing here throws
// past a decode function.
#include "endure/net/openai_codec.hpp"

#include "endure/net/detail/json_answer.hpp"
#include "endure/net/http_failure.hpp"

#include <nlohmann/json.hpp>

namespace endure::net {

namespace {

using json = nlohmann::json;

std::vector<float> read_vector(const json& value, std::string_view path) {
  detail::as_array(value, path);
  std::vector<float> v;
  v.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_number())
      detail::violate(detail::path_of(path, i), "a number (the client asks for "
                                                "encoding_format float)", value[i]);
    v.push_back(value[i].get<float>());
  }
  return v;
}

/// Vectors in input order; throws schema_violation.
embedding_response read_embeddings(const json& j, std::size_t inputs) {
  const auto& data = detail::as_array(detail::required_field(j, "data", ""), "data");
  if (data.size() != inputs)
    throw detail::schema_violation("field 'data' holds " + std::to_string(data.size()) +
                                   " vectors, expected one per input (" +
                                   std::to_string(inputs) + ")");
  embedding_response out;
  out.model = detail::optional_string(j, "model", "");
  out.vectors.resize(inputs);
  std::vector<bool> filled(inputs, false);
  for (std::size_t i = 0; i < data.size(); ++i) {
    auto path = detail::path_of("data", i);
    const auto& item = detail::as_object(data[i], path);
    auto index = detail::optional_count(item, "index", path, i);
    if (index >= inputs || filled[index])
      throw detail::schema_violation("field '" + path + ".index' is " + std::to_string(index) +
                                     ", expected a distinct index below " +
                                     std::to_string(inputs));
    out.vectors[index] = read_vector(detail::required_field(item, "embedding", path),
                                     path + ".embedding");
    filled[index] = true;
  }
  if (const json* u = detail::optional_field(j, "usage")) {
    detail::as_object(*u, "usage");
    out.usage.prompt_tokens = detail::optional_count(*u, "prompt_tokens", "usage");
    out.usage.total_tokens = detail::optional_count(*u, "total_tokens", "usage",
                                                    out.usage.prompt_tokens);
  }
  return out;
}

/// The tolerant server-side reading of a request.
result<embedding_request> read_embedding_request(std::string_view body) {
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

} // namespace

std::string encode_embedding_request(const embedding_request& req, std::string_view model) {
  json j{{"model", req.model.empty() ? std::string(model) : req.model},
         {"input", req.inputs},
         {"encoding_format", "float"}};
  return detail::dump_text(j);
}

result<embedding_request> decode_embedding_request(std::string_view body) {
  try {
    return read_embedding_request(body);
  } catch (const json::exception& e) { // a field of an unexpected type
    return make_failure(failure_class::fatal,
                        std::string("invalid embeddings request: a field has the wrong type: ") +
                          e.what(), 400);
  }
}

std::string encode_embedding_response(const embedding_response& r) {
  json data = json::array();
  for (std::size_t i = 0; i < r.vectors.size(); ++i)
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", r.vectors[i]}});
  json j{{"object", "list"},
         {"model", r.model},
         {"data", data},
         {"usage", {{"prompt_tokens", r.usage.prompt_tokens}, {"total_tokens", r.usage.total_tokens}}}};
  return detail::dump_text(j);
}

result<embedding_response> decode_embedding_response(std::string_view body,
                                                     std::string_view content_type,
                                                     std::size_t inputs, std::string_view what) {
  detail::answer_kind kind{what, "an embeddings list"};
  try {
    auto j = detail::parse_answer(body, content_type, kind);
    if (!j)
      return std::move(j).error();
    return read_embeddings(*j, inputs);
  } catch (const detail::schema_violation& v) {
    return detail::schema_failure(v, body, kind);
  } catch (const json::exception& e) { // a check the readers missed: still the answer's fault
    return detail::schema_failure(detail::schema_violation(e.what()), body, kind);
  }
}

} // namespace endure::net
