// The people in `endure demo`'s loop: whoever decides the content agent's
// requests (a gated publish, a question the agent asks). Scripted by
// default: after a moment's thought it answers a question with its first
// choice (or a fixed answer), edits the first publish it sees (a better
// title) and approves the others. With --interactive the person at the
// terminal decides instead (a line of input each; end of input hands back
// to the script). Decisions go through the worker's control socket like
// `endure approve`, or straight into the journal while the worker is down
// (they reach the run at the restart). Internal to cli/.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/control_protocol.hpp"

namespace endure::cli {

class demo_reviewer {
public:
  /// `env` names the demo's data directory and holds the tools (edits are
  /// checked against their schemas offline). `stamp` prefixes each printed
  /// line (the demo's clock).
  demo_reviewer(command_env env, bool interactive, std::function<std::string()> stamp);

  /// Reads the pending requests and decides those that have waited at
  /// least `think` since first seen (all of them with zero). Returns how
  /// many are still pending.
  std::size_t review(std::chrono::milliseconds think);

  /// Decisions written into the journal while no worker ran.
  std::size_t decided_offline() const noexcept { return offline_; }

private:
  using clock = std::chrono::steady_clock;
  void decide(const gateway::human_request& r);
  control_request scripted(const gateway::human_request& r);
  std::optional<control_request> asked(const gateway::human_request& r);
  control_reply send(const control_request& r, bool& offline);

  command_env env_;
  bool interactive_;
  std::function<std::string()> stamp_;
  std::map<std::string, clock::time_point> first_seen_;
  std::set<std::string> done_;
  std::map<std::string, int> refusals_;  ///< per request, refused attempts
  bool edited_one_ = false;
  std::size_t offline_ = 0;
};

} // namespace endure::cli
