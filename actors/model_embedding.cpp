// The model-embedding step body (detail/model_embedding.hpp).
#include "endure/actors/detail/model_embedding.hpp"

#include <future>
#include <memory>

#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/workflow_errors.hpp"
#include "endure/net/llm_backend.hpp"
#include "endure/net/llm_config.hpp"

namespace endure::detail {

namespace {

/// How long the embedding step waits for the model: the call's deadline
/// (the backend's, else the configured default) plus a grace, as ctx.llm
/// does. A backend answers by its deadline; this bounds one that does not.
std::chrono::milliseconds embed_wait(const net::llm_backend& model) {
  auto deadline = model.default_timeout().count() > 0 ? model.default_timeout()
                                                     : net::llm_config{}.request_timeout;
  return deadline + std::chrono::milliseconds{2'000};
}

} // namespace

// The answer is shared with the callback, which may run
// after this attempt gave up on it (or, from a broken backend, twice).
std::function<std::vector<float>(const step_info&, const std::string&)>
model_embedding(step_services* services, std::string where) {
  return [services, where](const step_info& info, const std::string& text) {
    auto model = services ? services->llm() : nullptr;
    if (!model)
      throw fatal_error(where + ": embeddings from the model need runtime_options::llm");
    auto answered = std::make_shared<std::promise<net::result<net::embedding_response>>>();
    auto answer = answered->get_future();
    net::embedding_request request;
    request.inputs = {text};
    request.attempt = info.attempt - 1;  // the sim draws a retry's faults anew
    model->embed(std::move(request), [answered](net::result<net::embedding_response> r) {
      try {
        answered->set_value(std::move(r));
      } catch (const std::future_error&) {
        // answered twice: the first answer stands
      }
    });
    auto wait = embed_wait(*model);
    if (answer.wait_for(wait) != std::future_status::ready)
      throw retryable_error(where + ": the model did not answer within "
                            + std::to_string(wait.count()) + " ms; the step is retried");
    auto r = answer.get();
    if (!r) {
      auto why = r.error();
      why.message = where + ": " + why.message;
      throw step_error(std::move(why));
    }
    if (r->vectors.size() != 1)
      throw fatal_error(where + ": the model returned " + std::to_string(r->vectors.size())
                        + " vectors for one input");
    return std::move(r->vectors.front());
  };
}

} // namespace endure::detail
