// The ledger's workflow steps (ledger_steps.hpp).
#include "endure/actors/state/ledger_steps.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/state/command_check.hpp"
#include "endure/actors/state/tool_check.hpp"
#include "endure/actors/state/detail/ask_person.hpp"
#include "endure/actors/state/detail/step_failure.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/workflow_errors.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

/// The workflow core's wall clock (journaled timestamps use the same).
constexpr auto wall_ms = ::endure::detail::now_ms;

/// The ledger store over the runtime's journal, for a step body.
ledger_store store_of(::endure::detail::step_services* services, const std::string& where) {
  if (!services || !services->store())
    throw fatal_error(where + ": this runtime has no journal to keep a ledger in");
  return ledger_store{*services->store()};
}

using detail::throw_step_failure;
using detail::value_or_throw;

std::string where_of(const context& ctx, const std::string& step) {
  return "run " + ctx.run_id() + ", step '" + step + "'";
}

template <class T, class Parse>
T parse_journaled(const std::string& text, Parse parse, const std::string& where) {
  auto v = parse(text);
  if (!v)
    throw fatal_error(where + ": the journaled result cannot be read: " + v.error().message);
  return std::move(*v);
}

json edit_json(const item_edit& change) {
  json j = json::object();
  if (!change.description.empty())
    j["description"] = change.description;
  if (change.acceptance)
    j["acceptance"] = *change.acceptance;
  if (change.verify) {
    ledger_item probe;
    probe.id = "probe";
    probe.description = "probe";
    probe.verify = *change.verify;
    j["verification"] = json::parse(to_json_text(probe))["verification"];
  }
  return j;
}

} // namespace

namespace detail {

task<person_answer> ask_person(context& ctx, std::string question,
                               std::vector<std::string> choices, std::string about) {
  auto ask = agent::detail::raise_question(ctx, std::move(question), std::move(choices),
                                           std::move(about));
  std::vector<agent::detail::gated_call> calls;
  calls.push_back(co_await std::move(ask));
  auto answered = agent::detail::await_decisions(ctx, calls);
  co_await std::move(answered);
  if (calls.front().failed)
    std::rethrow_exception(calls.front().failed);
  auto outcome = gateway::parse_outcome(calls.front().outcome);
  if (!outcome)
    throw fatal_error("run " + ctx.run_id() + ": the answer to request "
                      + calls.front().raised.id + " cannot be read: " + outcome.error().message);
  std::string by;
  for (auto& p : outcome->principals)
    by += (by.empty() ? "" : ", ") + p;
  // Only a response is an answer: a rejection's text is its reason, and
  // must never read as one of the choices.
  auto text = outcome->what == gateway::decision::respond ? std::move(outcome->text)
                                                          : std::string{};
  co_return person_answer{std::move(text), by.empty() ? "a person" : by};
}

} // namespace detail

namespace {

/// Whether `run` still has its task: running, waiting or quarantined. Gone:
/// not live; its meta unreadable: counted live (fail closed).
bool run_is_live(const journal& runs, const std::string& run) {
  auto meta = runs.run(run);
  if (!meta)
    return meta.error().code != errc::not_found;
  return meta->status == run_status::running || meta->status == run_status::waiting
         || meta->status == run_status::quarantined;
}

/// Makes `run` the task's one writer, in a step body; fatal when another
/// live run has it.
void claim_in_step(::endure::detail::step_services* services, const std::string& where,
                   const std::string& task, const std::string& run) {
  const journal& runs = *services->store();
  value_or_throw(store_of(services, where)
                   .claim(task, run, [&runs](const std::string& r) { return run_is_live(runs, r); }),
                 where);
}

} // namespace

task<task_row> create_ledger(context& ctx, std::string task, std::string goal,
                             std::vector<ledger_item> items, std::string workspace, bool claim) {
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, "ledger:create");
  json spec = json::array();
  for (auto& it : items)
    spec.push_back(json::parse(to_json_text(it)));
  auto body = [services, where, workspace, claim, run = ctx.run_id()](
                const std::string& task, const std::string& goal, const std::string& spec_text) {
    std::vector<ledger_item> parsed;
    for (auto& j : json::parse(spec_text))
      parsed.push_back(value_or_throw(item_from_json(j.dump()), where));
    auto row = value_or_throw(
      store_of(services, where).create(task, goal, parsed, wall_ms(), workspace), where);
    if (claim)
      claim_in_step(services, where, task, run);
    return json{{"task", row.task}, {"items", row.items}, {"created_ms", row.created_ms}}.dump();
  };
  auto step = ctx.step("ledger:create", body, task, goal, spec.dump()).run_inline();
  auto text = co_await std::move(step);
  auto j = json::parse(text);
  task_row row;
  row.task = j.at("task").get<std::string>();
  row.goal = goal;
  row.items = j.at("items").get<std::vector<std::string>>();
  row.created_ms = j.at("created_ms").get<std::int64_t>();
  co_return row;
}

task<std::vector<ledger_item>> read_ledger(context& ctx, std::string task, std::string step) {
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, step);
  auto body = [services, where](const std::string& task) {
    json all = json::array();
    for (auto& it : value_or_throw(store_of(services, where).items(task), where))
      all.push_back(json::parse(to_json_text(it)));
    return all.dump();
  };
  auto read = ctx.step(step, body, task);
  auto text = co_await std::move(read);
  std::vector<ledger_item> out;
  for (auto& j : json::parse(text))
    out.push_back(parse_journaled<ledger_item>(j.dump(), item_from_json, where));
  co_return out;
}

task<ledger_view> read_ledger_view(context& ctx, std::string task, std::string step,
                                   std::size_t next_items) {
  // A run an earlier build journaled this step for read the whole ledger
  // in it (ctx.step(STEP, body, task)): its replay meets that step again,
  // and the view is taken from what it read.
  if (agent::detail::context_access::next_journaled_step_is(ctx, step, task)) {
    auto whole = read_ledger(ctx, std::move(task), std::move(step));
    co_return view_of(co_await std::move(whole), next_items);
  }
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, step);
  auto body = [services, where](const std::string& task, std::uint64_t next_items) {
    return to_json_text(
      value_or_throw(read_view(store_of(services, where), task, next_items), where));
  };
  auto read = ctx.step(step, body, task, static_cast<std::uint64_t>(next_items));
  co_return parse_journaled<ledger_view>(co_await std::move(read), ledger_view_from_json, where);
}

task<ledger_item> verify_item(context& ctx, std::string task, std::string item,
                              std::filesystem::path workdir, std::uint32_t session) {
  auto* services = agent::detail::context_access::services(ctx);
  auto name = "verify:" + item;
  auto where = where_of(ctx, name);
  auto body = [services, where, tools = ctx.tools()](const step_info& info,
                                                     const std::string& task,
                                                     const std::string& item,
                                                     const std::string& dir,
                                                     std::uint32_t session) {
    auto store = store_of(services, where);
    auto current = value_or_throw(store.item(task, item), where);
    // This step stored its evidence, then the process died before the
    // journal had its result: that evidence is the step's result. Running
    // the check again would count a second verification (and could give
    // another verdict than the one already stored).
    if (current.last && current.last->step == info.idempotency_key)
      return to_json_text(current);
    auto e = run_check(current.verify, dir, tools);
    e.session = session;
    e.run_id = info.run_id;
    e.step = info.idempotency_key;
    return to_json_text(value_or_throw(store.record_verification(task, item, e), where));
  };
  // A failing check is evidence, not an error: only the store failing is
  // retried (a few times), never the verification's verdict.
  auto step = ctx.step(name, body, task, item, workdir.string(), session)
                .retry({.max_attempts = 3});
  auto text = co_await std::move(step);
  co_return parse_journaled<ledger_item>(text, item_from_json, where);
}

task<bool> request_edit(context& ctx, std::string task, std::string item, item_edit change,
                        std::string why) {
  auto change_json = edit_json(change);
  auto question = "Approve this change of ledger item " + item + " of task " + task + "? "
                  + change_json.dump() + (why.empty() ? "" : " Reason: " + why);
  auto asked = detail::ask_person(ctx, question, {"approve", "reject"}, "ledger edit " + task + "/" + item);
  auto answer = co_await std::move(asked);
  if (answer.text != "approve")
    co_return false;
  auto* services = agent::detail::context_access::services(ctx);
  auto name = "ledger:edit " + item;
  auto where = where_of(ctx, name);
  auto body = [services, where, change](const std::string& task, const std::string& item,
                                        const std::string& by) {
    return to_json_text(value_or_throw(store_of(services, where).edit(task, item, change, by),
                                      where));
  };
  auto step = ctx.step(name, body, task, item, answer.by).run_inline();
  co_await std::move(step);
  co_return true;
}

task<ledger_item> apply_override(context& ctx, std::string task, std::string item,
                                 std::string by, std::string why) {
  auto* services = agent::detail::context_access::services(ctx);
  auto name = "ledger:override " + item;
  auto where = where_of(ctx, name);
  auto body = [services, where](const std::string& task, const std::string& item,
                                const std::string& by, const std::string& why) {
    return to_json_text(
      value_or_throw(store_of(services, where).override_passing(task, item, by, why), where));
  };
  auto step = ctx.step(name, body, task, item, by, why).run_inline();
  auto text = co_await std::move(step);
  co_return parse_journaled<ledger_item>(text, item_from_json, where);
}

task<void> claim_task(context& ctx, std::string task) {
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, "task:claim");
  auto body = [services, where](const step_info& info, const std::string& task) {
    claim_in_step(services, where, task, info.run_id);
    return info.run_id;
  };
  auto step = ctx.step("task:claim", body, task);
  co_await std::move(step);
}

task<task_row> complete_task(context& ctx, std::string task) {
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, "ledger:complete");
  auto body = [services, where](const std::string& task) {
    auto row = value_or_throw(store_of(services, where).complete(task, wall_ms()), where);
    return row.completed_ms;
  };
  auto step = ctx.step("ledger:complete", body, task).run_inline();
  auto completed = co_await std::move(step);
  task_row row;
  row.task = task;
  row.completed_ms = completed;
  co_return row;
}

task<void> write_progress(context& ctx, std::string task, progress_entry entry) {
  auto* services = agent::detail::context_access::services(ctx);
  auto name = "progress:" + std::to_string(entry.session);
  auto where = where_of(ctx, name);
  auto body = [services, where](const std::string& task, const std::string& entry_text) {
    auto entry = value_or_throw(progress_from_json(entry_text), where);
    if (auto done = store_of(services, where).append_progress(task, entry); !done)
      throw_step_failure(where, done.error());
  };
  auto step = ctx.step(name, body, task, to_json_text(entry)).run_inline();
  co_await std::move(step);
}

namespace {

/// A journaled progress read's entries.
std::vector<progress_entry> progress_from(const std::string& text, const std::string& where) {
  std::vector<progress_entry> out;
  for (auto& j : json::parse(text))
    out.push_back(parse_journaled<progress_entry>(j.dump(), progress_from_json, where));
  return out;
}

} // namespace

task<std::vector<progress_entry>> read_progress(context& ctx, std::string task, std::string step) {
  // The whole log, journaled as ctx.step(STEP, body, task): the inputs
  // earlier builds journaled it with, for every caller.
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, step);
  auto body = [services, where](const std::string& task) {
    auto log = value_or_throw(store_of(services, where).progress(task), where);
    json all = json::array();
    for (auto& e : log.entries)
      all.push_back(json::parse(to_json_text(e)));
    return all.dump();
  };
  auto read = ctx.step(step, body, task).run_inline();
  co_return progress_from(co_await std::move(read), where);
}

task<std::vector<progress_entry>> read_progress(context& ctx, std::string task, std::string step,
                                                std::size_t newest) {
  // A run an earlier build journaled this step for read the whole log in
  // it: its replay meets that step again and keeps the newest entries.
  if (agent::detail::context_access::next_journaled_step_is(ctx, step, task)) {
    auto whole = read_progress(ctx, std::move(task), std::move(step));
    auto all = co_await std::move(whole);
    if (all.size() > newest)
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(newest));
    co_return all;
  }
  auto* services = agent::detail::context_access::services(ctx);
  auto where = where_of(ctx, step);
  auto body = [services, where](const std::string& task, std::uint64_t newest) {
    auto log = value_or_throw(store_of(services, where).progress(task, newest), where);
    json all = json::array();
    for (auto& e : log.entries)
      all.push_back(json::parse(to_json_text(e)));
    return all.dump();
  };
  auto read = ctx.step(step, body, task, static_cast<std::uint64_t>(newest)).run_inline();
  co_return progress_from(co_await std::move(read), where);
}

} // namespace endure::state
