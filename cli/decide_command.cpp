// `endure approve ID --as P [--edit JSON]`, `endure reject ID --as P
// [--reason TEXT]` and `endure answer ID TEXT --as P`: a person's decision
// on a request of the human gateway (a gated tool call, or a question an
// agent asked). While `endure serve` holds the data directory the decision
// goes to its runtime (runtime::decide, channel "cli"); otherwise it is
// applied to the journal directly (human_decision.hpp) and reaches the run
// at the next start. Either way the output is the same. --as names who
// decides: the CLI's user vouches for it, as they could for any write to
// the data directory they own.
#include <iostream>

#include <nlohmann/json.hpp>

#include "endure/cli/command.hpp"
#include "endure/cli/run_control.hpp"

namespace endure::cli {

namespace {

using json = nlohmann::json;

struct decide_options {
  std::string id;
  std::string principal;
  std::optional<std::string> edit;  ///< approve: JSON arguments
  std::string reason;               ///< reject
  std::string text;                 ///< answer
};

int usage(const std::string& message) {
  fail(message);
  return 2;
}

/// The decision and its payload, from the command and its options; nullopt
/// (after saying why) for bad usage.
std::optional<control_request> build(const std::string& command, const decide_options& o) {
  control_request r;
  r.op = control_op::decide;
  r.run_id = o.id;
  r.principal = o.principal;
  json payload = json::object();
  if (command == "approve" && o.edit) {
    auto args = json::parse(*o.edit, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
      usage("request " + o.id + ": --edit takes the arguments to run as a JSON object, e.g. "
            "--edit '{\"title\": \"new\"}'; got " + *o.edit);
      return std::nullopt;
    }
    r.name = "edit";
    payload["arguments"] = std::move(args);
  } else if (command == "approve") {
    r.name = "approve";
  } else if (command == "reject") {
    r.name = "reject";
    payload["reason"] = o.reason;
  } else {
    r.name = "respond";
    payload["text"] = o.text;
  }
  r.payload = payload.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

int decide(const command_env& env, const std::string& command, const decide_options& o) {
  if (o.principal.empty())
    return usage("request " + o.id + ": say who decides with --as PRINCIPAL (a name the "
                 "request's approvers list; `endure inbox --as PRINCIPAL` shows yours)");
  auto r = build(command, o);
  if (!r)
    return 2;
  return control(env, *r);
}

CLI::App* add_one(CLI::App& app, command_env& env, const std::string& name,
                  const std::string& help, std::shared_ptr<decide_options> o) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("ID", o->id, "request id (RUN/STEP; see endure inbox)")->required();
  cmd->add_option("--as", o->principal, "who decides (required)");
  cmd->callback([&env, name, o] { env.exit_code = decide(env, name, *o); });
  return cmd;
}

} // namespace

void add_decide_command(CLI::App& app, command_env& env) {
  auto a = std::make_shared<decide_options>();
  auto* approve = add_one(app, env, "approve", "approve a gated tool call (it runs)", a);
  approve->add_option("--edit", a->edit,
                      "run it with these arguments instead (a JSON object, checked against "
                      "the tool's schema)");
  auto r = std::make_shared<decide_options>();
  auto* reject = add_one(app, env, "reject", "reject a gated tool call (it does not run)", r);
  reject->add_option("--reason", r->reason, "why (the agent is told)");
  auto q = std::make_shared<decide_options>();
  auto* answer = add_one(app, env, "answer",
                         "answer a question, or respond in a gated tool's place", q);
  answer->add_option("TEXT", q->text, "the answer (the tool's result, for a gated call)")
    ->required();
}

} // namespace endure::cli
