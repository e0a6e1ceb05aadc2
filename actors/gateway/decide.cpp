// apply_decision: the rules a decision must pass, in the order a reviewer
// would want them explained.
#include "endure/actors/gateway/decide.hpp"

#include <algorithm>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_schema.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/joined_names.hpp"
#include "endure/actors/utc_time.hpp"

namespace endure::gateway {

namespace {

using json = nlohmann::json;

bool allowed(const human_request& r, decision d) {
  if (r.kind == request_kind::question)
    return d == decision::respond;
  auto& list = r.rule.at("allowed_decisions");
  return std::any_of(list.begin(), list.end(),
                     [&](const json& x) { return x.get<std::string>() == to_string(d); });
}

std::uint32_t quorum_of(const human_request& r) {
  return r.kind == request_kind::approval ? r.rule.value("quorum", 1u) : 1u;
}

/// The choices question `r` offers (its arguments' "choices"); empty when it
/// offers none, so any text answers it.
std::vector<std::string> choices_of(const human_request& r) {
  std::vector<std::string> out;
  if (r.kind != request_kind::question || !r.arguments.is_object())
    return out;
  auto it = r.arguments.find("choices");
  if (it == r.arguments.end() || !it->is_array())
    return out;
  for (auto& c : *it)
    if (c.is_string())
      out.push_back(c.get<std::string>());
  return out;
}

/// The answer `text` to question `r`: one of its choices, exactly, when it
/// offers any (the run acts on the answer it asked for, not on a variant).
expected<void> check_answer(const human_request& r, const std::string& text) {
  auto choices = choices_of(r);
  if (choices.empty() || std::find(choices.begin(), choices.end(), text) != choices.end())
    return {};
  std::string listed;
  for (auto& c : choices)
    listed += (listed.empty() ? "" : ", ") + json(c).dump(-1, ' ', false,
                                                          json::error_handler_t::replace);
  return make_error(errc::invalid_argument, "the answer must be exactly one of the choices "
                                              "the question offers: " + listed);
}

/// The edited arguments, checked against the tool's schema.
expected<json> edited_arguments(const human_request& r, const json& payload,
                                 const agent::tool_registry* tools) {
  if (!payload.is_object() || !payload.contains("arguments") || !payload["arguments"].is_object())
    return make_error(errc::invalid_argument,
                      "an edit gives the arguments to run: {\"arguments\": {...}}");
  const agent::tool* t = tools ? tools->find(r.tool) : nullptr;
  if (!t)
    return make_error(errc::invalid_argument, "tool '" + r.tool + "' is not registered in this "
                      "process: its schema cannot check the edit");
  auto violations = agent::validate(t->parameters, payload["arguments"]);
  if (!violations.empty()) {
    std::string what;
    for (auto& v : violations)
      what += (what.empty() ? "" : "; ") + (v.path.empty() ? std::string{"/"} : v.path) + ": "
              + v.message;
    return make_error(errc::invalid_argument, "the edited arguments break the schema of '"
                                                + r.tool + "': " + what);
  }
  return payload["arguments"];
}

/// For the audit trail: a name that is not well formed, made printable.
std::string printable(const std::string& name) {
  return valid_principal(name) ? name : json(name).dump(-1, ' ', false, json::error_handler_t::replace);
}

error refuse(human_request& r, const decision_input& in, error why) {
  r.audit.push_back({in.now_ms, printable(in.principal), printable(in.channel),
                     std::string{to_string(in.what)}, "refused: " + why.message});
  why.message = "request " + r.id + " (run " + r.run_id + "): " + why.message;
  return why;
}

} // namespace

bool valid_principal(const std::string& name) {
  if (name.empty() || name.size() > 200)
    return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f)
      return false;
  try {
    (void)agent::canonical_json(json(name));  // throws if not UTF-8
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

std::vector<std::string> eligible_principals(const human_request& r) {
  if (r.kind != request_kind::approval || !r.rule.contains("eligible"))
    return {};
  return r.rule["eligible"].get<std::vector<std::string>>();
}

expected<decide_result> apply_decision(human_request& r, const decision_input& in,
                                       const agent::tool_registry* tools) {
  if (r.status != request_status::pending) {
    // "already decided by ann at T", or with nobody's decision "already
    // expired at T (no decision within 30m)".
    auto at = r.outcome ? utc_time_text(r.outcome->at_ms) : std::string{"earlier"};
    auto by_person = r.outcome && !r.outcome->principals.empty();
    auto when = by_person ? " by " + joined_names(r.outcome->principals) + " at " + at
                          : " at " + at + (r.outcome ? " (" + r.outcome->text + ")" : "");
    return refuse(r, in, make_error(errc::invalid_state,
                                    "already " + std::string{to_string(r.status)} + when
                                      + "; a request is decided once"));
  }
  if (!valid_principal(in.principal) || !valid_principal(in.channel))
    return refuse(r, in, make_error(errc::permission_denied,
                                    "a principal (and channel) is 1 to 200 printable UTF-8 "
                                    "characters: say who decides"));
  auto eligible = eligible_principals(r);
  if (!eligible.empty() && std::find(eligible.begin(), eligible.end(), in.principal) == eligible.end())
    return refuse(r, in, make_error(errc::permission_denied,
                                    in.principal + " may not decide it; its approvers are "
                                      + joined_names(eligible)));
  if (!allowed(r, in.what))
    return refuse(r, in, make_error(errc::invalid_argument,
                                    std::string{to_string(in.what)} + " is not a decision this "
                                      "request allows"));
  request_outcome out{in.what, {in.principal}, in.now_ms, in.channel, {}, {}, {}};
  switch (in.what) {
    case decision::approve: {
      if (std::find(r.approved_by.begin(), r.approved_by.end(), in.principal) != r.approved_by.end())
        return refuse(r, in, make_error(errc::invalid_argument,
                                        in.principal + " has approved it already; the quorum "
                                          "needs distinct principals"));
      r.approved_by.push_back(in.principal);
      auto need = quorum_of(r);
      if (r.approved_by.size() < need) {
        r.audit.push_back({in.now_ms, in.principal, in.channel, "approve",
                           "counted " + std::to_string(r.approved_by.size()) + " of "
                             + std::to_string(need)});
        return decide_result::counted;
      }
      out.principals = r.approved_by;
      break;
    }
    case decision::edit: {
      // One person's edit must not stand in for a quorum's approval.
      if (quorum_of(r) > 1)
        return refuse(r, in, make_error(errc::invalid_argument,
                                        "this request needs " + std::to_string(quorum_of(r))
                                          + " approvals; an edit would bypass them: reject it "
                                            "saying what to change, or approve it"));
      auto args = edited_arguments(r, in.payload, tools);
      if (!args)
        return refuse(r, in, std::move(args).error());
      out.edited_hash = agent::json_hash(*args);
      out.edited_arguments = std::move(*args);
      break;
    }
    case decision::reject:
      if (in.payload.is_object() && in.payload.contains("reason")
          && !in.payload["reason"].is_string())
        return refuse(r, in, make_error(errc::invalid_argument,
                                        "a rejection's reason is text: {\"reason\": \"...\"}"));
      out.text = in.payload.is_object() ? in.payload.value("reason", std::string{}) : "";
      break;
    case decision::respond:
      if (!in.payload.is_object() || !in.payload.contains("text")
          || !in.payload["text"].is_string())
        return refuse(r, in, make_error(errc::invalid_argument,
                                        "a response gives its text: {\"text\": \"...\"}"));
      out.text = in.payload["text"].get<std::string>();
      if (auto ok = check_answer(r, out.text); !ok)
        return refuse(r, in, std::move(ok).error());
      break;
  }
  r.status = request_status::decided;
  r.outcome = std::move(out);
  r.audit.push_back({in.now_ms, in.principal, in.channel, std::string{to_string(in.what)},
                     "accepted"});
  return decide_result::decided;
}

} // namespace endure::gateway
