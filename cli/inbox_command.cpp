// `endure inbox [--json] [--as PRINCIPAL] [--limit N]`: the requests
// waiting for a person (gated tool calls and questions), oldest first: id,
// run, tool or question, arguments, why it waits, who may decide, age.
// With --as, only those PRINCIPAL may decide (the request names them, or
// names nobody). Reads the journal read-only, so it works next to serve.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "endure/actors/gateway/decide.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/request_rows.hpp"

namespace endure::cli {

namespace {

using gateway::human_request;
using json = nlohmann::json;

struct inbox_options {
  bool json = false;
  std::string principal;
  std::size_t limit = 100;
};

std::string what_text(const human_request& r) {
  return r.kind == gateway::request_kind::question ? std::string{"question"} : r.tool;
}

json inbox_json(const human_request& r, std::int64_t now) {
  return {{"id", r.id},
          {"run_id", r.run_id},
          {"kind", to_string(r.kind)},
          {"tool", r.tool},
          {"arguments", r.arguments},
          {"arguments_hash", r.arguments_hash},
          {"why", why_text(r)},
          {"eligible", gateway::eligible_principals(r)},
          {"allowed_decisions", r.rule.value("allowed_decisions", json::array())},
          {"quorum", r.rule.value("quorum", 1u)},
          {"approved_by", r.approved_by},
          {"created_ms", r.created_ms},
          {"age_ms", now - r.created_ms}};
}

std::string one_line(const json& j, std::size_t max = 120) {
  auto text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > max ? text.substr(0, max) + "..." : text;
}

void print_table(const std::vector<const human_request*>& shown, std::int64_t now) {
  int id_w = 7, run_w = 3, what_w = 4;
  for (auto* r : shown) {
    id_w = std::max(id_w, static_cast<int>(r->id.size()));
    run_w = std::max(run_w, static_cast<int>(r->run_id.size()));
    what_w = std::max(what_w, static_cast<int>(what_text(*r).size()));
  }
  std::printf("%-*s %-*s %-*s %-8s %s\n", id_w, "REQUEST", run_w, "RUN", what_w, "WHAT", "AGE",
              "DECIDES");
  for (auto* r : shown) {
    auto decides = deciders_text(*r);
    if (auto quorum = r->rule.value("quorum", 1u); quorum > 1)
      decides += " (" + std::to_string(r->approved_by.size()) + " of " + std::to_string(quorum)
                 + " approved)";
    std::printf("%-*s %-*s %-*s %-8s %s\n", id_w, r->id.c_str(), run_w, r->run_id.c_str(),
                what_w, what_text(*r).c_str(), format_duration_ms(now - r->created_ms).c_str(),
                decides.c_str());
    std::printf("    arguments: %s\n    why: %s\n", one_line(r->arguments).c_str(),
                why_text(*r).c_str());
  }
}

int inbox(const command_env& env, const inbox_options& o) {
  auto j = open_journal_view(env.globals.data_dir);
  if (!j)
    return fail(j.error().message);
  auto page = read_inbox(**j, {o.principal, o.limit});
  if (!page)
    return fail("cannot read the requests in " + env.globals.data_dir + ": "
                + page.error().message);
  for (auto& [id, why] : page->damaged)
    std::cerr << "endure: request " << id << " is damaged and not shown: " << why.message << "\n";
  std::vector<const human_request*> pending;
  for (auto& r : page->requests)
    pending.push_back(&r);
  auto total = page->total;
  auto now = now_ms();
  if (o.json) {
    auto out = json::array();
    for (auto* r : pending)
      out.push_back(inbox_json(*r, now));
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << std::endl;
    return 0;
  }
  if (pending.empty()) {
    std::cout << "no pending requests"
              << (o.principal.empty() ? std::string{} : " " + o.principal + " may decide")
              << " in " << env.globals.data_dir << std::endl;
    return 0;
  }
  print_table(pending, now);
  if (total > pending.size() && page->exact)
    std::printf("... and %zu more (--limit)\n", total - pending.size());
  else if (total > pending.size())
    std::printf("... and more (--limit)\n");
  std::fflush(stdout);
  return 0;
}

} // namespace

void add_inbox_command(CLI::App& app, command_env& env) {
  auto o = std::make_shared<inbox_options>();
  auto* cmd = app.add_subcommand("inbox", "the requests waiting for a person, oldest first");
  cmd->add_flag("--json", o->json, "print a JSON array");
  cmd->add_option("--as", o->principal, "only the requests PRINCIPAL may decide");
  cmd->add_option("--limit", o->limit, "show at most N")->capture_default_str()
    ->check(CLI::Range(1, 1'000'000'000));
  cmd->callback([&env, o] { env.exit_code = inbox(env, *o); });
}

} // namespace endure::cli
