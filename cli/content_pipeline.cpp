// The content pipeline workflow (content_pipeline.hpp). Each step is a
// ctx.llm call: the model's answer, usage and cost are journaled, the call
// holds no thread while the model thinks, and its failure keeps the class
// the net layer gave it (rate_limited with Retry-After, retryable, fatal),
// which the retry policy reads.
#include "endure/cli/content_pipeline.hpp"

namespace endure::cli {

namespace {

/// Keeps prompts well inside any context window.
std::string clip(const std::string& text, std::size_t max = 1500) {
  return text.size() <= max ? text : text.substr(0, max);
}

/// One durable model call named `name`.
op_awaiter<net::chat_response> llm_step(context& ctx, const std::string& name,
                                        const std::string& prompt) {
  net::chat_request req;
  req.messages = {net::chat_message::system("You are a careful technical writer."),
                  net::chat_message::user(prompt)};
  req.max_tokens = 300;
  retry_policy policy;
  policy.max_attempts = 8;
  policy.initial_interval = std::chrono::milliseconds{200};
  policy.max_interval = std::chrono::milliseconds{3000};
  return ctx.llm(name, std::move(req)).retry(policy);
}

} // namespace

net::llm_config demo_sim_config(int latency_ms, std::uint64_t seed) {
  net::llm_config c;
  c.sim.seed = seed;
  c.sim.latency = std::chrono::milliseconds{latency_ms};
  c.sim.latency_jitter = std::chrono::milliseconds{latency_ms};
  c.sim.rate_limit_rate = 0.07;
  c.sim.retry_after = std::chrono::milliseconds{500};
  c.sim.server_error_rate = 0.05;
  c.sim.timeout_rate = 0.02;
  c.input_price_per_1k = demo_input_price_per_1k;
  c.output_price_per_1k = demo_output_price_per_1k;
  return c;
}

namespace {

// Every name, prompt and sub-task is bound to a local before co_await (g++ 12
// mis-relocates non-trivial temporaries inside co_await expressions).

/// Steps 1-6: research, read four sources, extract facts; returns the facts.
task<std::string> research_facts(context& ctx, std::string keyword) {
  std::string name = "research";
  std::string prompt = "List four good sources about " + keyword + ".";
  auto op = llm_step(ctx, name, prompt);
  auto research = co_await std::move(op);
  std::string notes;
  for (int i = 1; i <= 4; ++i) {
    name = "read_source_" + std::to_string(i);
    prompt = "Read source " + std::to_string(i) + " of: " + clip(research.content, 600)
             + "\nSummarise what it says about " + keyword + ".";
    auto read = llm_step(ctx, name, prompt);
    auto summary = co_await std::move(read);
    notes += summary.content + "\n";
  }
  name = "extract_facts";
  prompt = "Extract the key facts about " + keyword + " from:\n" + clip(notes);
  auto facts_op = llm_step(ctx, name, prompt);
  auto facts = co_await std::move(facts_op);
  co_return facts.content;
}

/// Steps 7-17: outline, six sections, intro, conclusion, edit, fact-check.
task<std::string> write_draft(context& ctx, std::string keyword, std::string facts) {
  std::string name = "outline";
  std::string prompt = "Outline a six-section article on " + keyword + " using:\n" + clip(facts);
  auto outline_op = llm_step(ctx, name, prompt);
  auto outline = co_await std::move(outline_op);
  std::string draft;
  for (int i = 1; i <= 6; ++i) {
    name = "draft_section_" + std::to_string(i);
    prompt = "Write section " + std::to_string(i) + " of this outline on " + keyword + ":\n"
             + clip(outline.content, 800);
    auto section_op = llm_step(ctx, name, prompt);
    auto section = co_await std::move(section_op);
    draft += section.content + "\n\n";
  }
  const char* finishing[] = {"draft_intro", "draft_conclusion", "edit", "fact_check"};
  for (const char* step : finishing) {
    name = step;
    prompt = std::string{"Task: "} + step + " for an article on " + keyword + ".\n" + clip(draft);
    auto finish_op = llm_step(ctx, name, prompt);
    auto finished = co_await std::move(finish_op);
    draft = finished.content + "\n\n" + draft;
  }
  co_return draft;
}

/// Steps 18-20: title, score, publish; returns the run's result line.
task<std::string> publish(context& ctx, std::string keyword, std::string draft) {
  std::string name = "seo_title";
  std::string prompt = "Write an SEO title for this article on " + keyword + ":\n"
                       + clip(draft, 500);
  auto title_op = llm_step(ctx, name, prompt);
  auto title = co_await std::move(title_op);
  name = "score";
  prompt = "Score this article on " + keyword + " from 1 to 10:\n" + clip(draft, 800);
  auto score_op = llm_step(ctx, name, prompt);
  auto score = co_await std::move(score_op);
  name = "publish";
  prompt = "Publish: " + clip(title.content, 120) + "\n" + clip(draft, 800);
  auto publish_op = llm_step(ctx, name, prompt);
  auto published = co_await std::move(publish_op);
  co_return "published '" + clip(title.content, 80) + "' (score: " + clip(score.content, 40)
    + ", " + std::to_string(published.content.size()) + " chars)";
}

} // namespace

task<std::string> content_pipeline(context& ctx, std::string keyword) {
  auto research = research_facts(ctx, keyword);
  auto facts = co_await std::move(research);
  auto writing = write_draft(ctx, keyword, facts);
  auto draft = co_await std::move(writing);
  auto publishing = publish(ctx, keyword, draft);
  co_return co_await std::move(publishing);
}

void register_content_pipeline(workflow_registry& registry) {
  registry.add("content_pipeline", &content_pipeline);
}

} // namespace endure::cli
