// ctx.tool(name, args): a tool of runtime_options::tools as one durable
// step. Include this header to call it (it brings nlohmann-json and the
// tool registry); the declaration is in endure/actors/context.hpp.
//
//   auto registry = std::make_shared<endure::agent::tool_registry>();
//   registry->add({"search", "Search the web.", schema, search_fn});
//   opts.tools = registry;                                   // runtime_options
//   ...
//   nlohmann::json hits = co_await ctx.tool("search", {{"query", "durable agents"}});
#pragma once

#include <nlohmann/json.hpp>

#include "endure/actors/agent/json_msgpack.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/context.hpp"
