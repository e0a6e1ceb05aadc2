// The escalation matrix's values as JSON text: what the escalation actor's
// messages carry, what a run journals as its decision (readable in `endure
// inspect`) and what the store keeps in its small rows. Every parser
// checks every field it reads (type, finiteness where a number must be
// one) and says which one is wrong; unknown keys are ignored, so a row a
// newer build wrote with more fields still reads. Any thread.
#pragma once

#include <string>
#include <string_view>

#include "endure/actors/escalation/matrix.hpp"
#include "endure/persistence/error.hpp"

namespace endure::escalation {

std::string to_json_text(const proposal& p);
std::string to_json_text(const assessment& a);
std::string to_json_text(const outcome& o);
std::string to_json_text(const refit_record& r);

/// Errors: invalid_argument "<what>: <field>: <problem>".
expected<proposal> proposal_from_json(std::string_view text);
expected<assessment> assessment_from_json(std::string_view text);
expected<outcome> outcome_from_json(std::string_view text);
expected<refit_record> refit_from_json(std::string_view text);

/// "proceed" or "escalate".
const char* to_string(decision d) noexcept;

} // namespace endure::escalation
