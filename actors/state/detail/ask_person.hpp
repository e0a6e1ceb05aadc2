// A person's answer and who gave it, through the human gateway: what
// ctx.ask_human does, plus the principals (ctx.ask_human returns the text
// only), for decisions the ledger audits by name. Internal to actors/state.
#pragma once

#include <string>
#include <vector>

#include "endure/actors/context.hpp"
#include "endure/actors/task.hpp"

namespace endure::state::detail {

struct person_answer {
  std::string text;  ///< the answer (one of `choices` when given)
  std::string by;    ///< who decided ("alice", "alice, bob" for a quorum)
};

task<person_answer> ask_person(context& ctx, std::string question,
                               std::vector<std::string> choices, std::string about);

} // namespace endure::state::detail
