// The escalation evaluator's report (actors/escalation/evaluation.hpp) as
// text for a terminal: what `endure escalation eval` prints without --json.
#pragma once

#include <string>

#include "endure/actors/escalation/evaluation.hpp"

namespace endure::cli {

std::string escalation_report_text(const escalation::evaluation_report& report);

} // namespace endure::cli
