// `endure escalation eval LOG`: the escalation matrix's offline evaluator
// (actors/escalation/evaluation.hpp) over a decision log (JSON lines),
// printed for a person (escalation_report_text.hpp) or, with --json, as
// JSON for tools: how well the logged score and each of its inputs alone
// find the silently wrong actions, calibration, bootstrap intervals and a
// fit-on-the-past, judge-on-the-future split. Opens no data directory. A
// bad log or option prints what is wrong (file and line) and exits 1.
#include <iostream>

#include "endure/actors/escalation/evaluation.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/escalation_report_text.hpp"

namespace endure::cli {

namespace {

struct eval_args {
  std::string log;
  bool json = false;
  escalation::evaluation_options options;
};

int evaluate_log(const eval_args& a) {
  auto records = escalation::read_decision_log(a.log);
  if (!records)
    return fail(records.error().message);
  auto report = escalation::evaluate(*records, a.options);
  if (!report)
    return fail(a.log + ": " + report.error().message);
  std::cout << (a.json ? escalation::to_json(*report) + "\n"
                       : escalation_report_text(*report));
  return 0;
}

} // namespace

void add_escalation_command(CLI::App& app, command_env& env) {
  auto* escalation = app.add_subcommand("escalation", "the escalation matrix: evaluate its decisions");
  escalation->require_subcommand(1);
  auto a = std::make_shared<eval_args>();
  auto* eval = escalation->add_subcommand(
    "eval", "AUROC, AUPRC, caught errors by escalation rate, calibration and a temporal split "
            "of a decision log");
  eval->add_option("LOG", a->log, "decision log: JSON lines {t, task_type, features, score, "
                                  "decision, outcome}")->required();
  eval->add_flag("--json", a->json, "print every number as JSON (the curve every 1%)");
  eval->add_option("--resamples", a->options.bootstrap.resamples,
                   "bootstrap resamples of each interval (default 1000)")
    ->check(CLI::Range(1, 1'000'000));
  eval->add_option("--seed", a->options.bootstrap.seed, "bootstrap seed (default 1)")
    ->check(CLI::NonNegativeNumber);
  eval->add_option("--past", a->options.past_fraction,
                   "share of the log, in t order, the refit learns from (default 0.7)");
  eval->callback([&env, a] { env.exit_code = evaluate_log(*a); });
}

} // namespace endure::cli
