// The content agent: an example to copy. One run writes one article for a
// keyword with endure::agent::run_agent and five tools: search, read, draft,
// publish (irreversible), and the built-in ask_human. Under the default
// policy (policy.yaml beside this file) `publish` waits for an editor, and
// the agent asks a person first when the keyword's search intent is
// ambiguous. `endure demo` runs it; so can `endure run content_agent
// --input '{"keyword": "actor model", "intent": "ambiguous"}' --policy
// examples/content_agent/policy.yaml`.
//
// The tools are local and deterministic (no network), so the example runs
// anywhere: search and read make up sources from their arguments, draft
// formats an article, publish writes it as a Markdown file into a site
// directory. Swap their bodies for real APIs; the agent does not change.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <msgpack.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/workflow_registry.hpp"

namespace content_agent {

/// What one run writes about.
struct assignment {
  std::string keyword;
  /// The keyword's search intent as keyword research labels it
  /// ("informational", "commercial", "ambiguous", ...); empty: unknown.
  std::string intent;
  MSGPACK_DEFINE_MAP(keyword, intent);
};

/// The workflow (registered as "content_agent"): the agent's answer, with
/// its counts of turns, tool calls, questions and rejections.
endure::task<endure::agent::agent_answer> write_article(endure::context& ctx, assignment a);

/// Adds "content_agent" to `workflows`.
void register_workflows(endure::workflow_registry& workflows);

/// search, read, draft and publish. publish writes SITE_DIR/SLUG.md (the
/// directory is created on first use) and is idempotent per step attempt:
/// a publish the journal re-runs after a crash rewrites the same file, it
/// never adds a second article.
std::shared_ptr<endure::agent::tool_registry> make_tools(std::filesystem::path site_dir);

/// The default policy (policy.yaml beside this file, compiled in).
const std::string& default_policy_yaml();

/// The editors of the default policy, who may decide a publish.
inline constexpr const char* default_editor = "ed";

} // namespace content_agent
