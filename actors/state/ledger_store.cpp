// The ledger's and the progress log's rows (ledger_store.hpp).
#include "endure/actors/state/ledger_store.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/net/sha256.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/row_scan.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

std::string hex8(std::uint32_t n) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", n);
  return buf;
}

std::string task_key(std::string_view task) { return "t/" + std::string{task}; }
std::string item_key(std::string_view task, std::string_view id) {
  return "i/" + std::string{task} + "/" + std::string{id};
}
std::string state_key(std::string_view task, std::string_view id) {
  return "s/" + std::string{task} + "/" + std::string{id};
}
std::string evidence_prefix(std::string_view task, std::string_view id) {
  return "e/" + std::string{task} + "/" + std::string{id} + "/";
}
std::string progress_key(std::string_view task, std::uint32_t session) {
  return std::string{task} + "/" + hex8(session);
}

std::string task_json(const task_row& t) {
  return json{{"task", t.task},           {"goal", t.goal}, {"workspace", t.workspace},
              {"items", t.items},         {"spec_hash", t.spec_hash},
              {"created_ms", t.created_ms}, {"completed_ms", t.completed_ms},
              {"audit", t.audit},         {"owner", t.owner}}
    .dump(-1, ' ', false, json::error_handler_t::replace);  // a goal that is not UTF-8
}

expected<task_row> task_from_json(std::string_view text) {
  try {
    auto j = json::parse(text);
    task_row t;
    t.task = j.at("task").get<std::string>();
    t.goal = j.value("goal", "");
    t.workspace = j.value("workspace", "");
    t.items = j.at("items").get<std::vector<std::string>>();
    t.spec_hash = j.value("spec_hash", "");
    t.created_ms = j.value("created_ms", std::int64_t{0});
    t.completed_ms = j.value("completed_ms", std::int64_t{0});
    t.audit = j.value("audit", std::vector<std::string>{});
    t.owner = j.value("owner", "");
    return t;
  } catch (const json::exception& e) {
    return make_error(errc::corrupt_record, std::string{"ledger task row: "} + e.what());
  }
}

/// The hash a ledger is recognised by when created again: its items'
/// definitions (not their status), in order.
std::string spec_hash(const std::vector<ledger_item>& items) {
  std::string all;
  for (auto it : items) {
    it.status = item_status::failing;
    it.last.reset();
    it.verifications = 0;
    it.revision = 0;
    it.overridden_by.clear();
    all += to_json_text(it);
    all += '\n';
  }
  return net::sha256_hex(all);
}

/// Whether `it` is stored as an item the store can read back: a row that
/// does not parse would make the whole ledger unreadable (items() refuses
/// a ledger with a damaged row), so it is refused before it is written.
expected<void> check_storable(std::string_view task, const ledger_item& it) {
  auto where = "task " + std::string{task} + " item " + it.id + ": ";
  std::string text;
  try {
    text = to_json_text(it);
  } catch (const json::exception& e) {
    return make_error(errc::invalid_argument,
                      where + "verification: tool args and expect must be JSON objects ("
                        + e.what() + ")");
  }
  if (auto back = item_from_json(text); !back)
    return make_error(errc::invalid_argument,
                      where + back.error().message + "; nothing was stored: correct the item");
  return {};
}

/// An item's standing row: "S P O V X" (status P/F, priority, order,
/// verifications, overridden 0/1); text, so `endure inspect` can show it.
std::string state_text(const ledger_item& it) {
  return std::string{it.status == item_status::passing ? "P " : "F "} + std::to_string(it.priority)
         + ' ' + std::to_string(it.order) + ' ' + std::to_string(it.verifications)
         + (it.overridden_by.empty() ? " 0" : " 1");
}

std::optional<item_state> state_from_text(std::string_view id, std::string_view text) {
  item_state st;
  st.id = std::string{id};
  if (text.size() < 2 || (text[0] != 'P' && text[0] != 'F') || text[1] != ' ')
    return std::nullopt;
  st.status = text[0] == 'P' ? item_status::passing : item_status::failing;
  const char* p = text.data() + 2;
  const char* end = text.data() + text.size();
  auto field = [&](auto& value) {
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc{})
      return false;
    p = next < end && *next == ' ' ? next + 1 : next;
    return true;
  };
  std::uint32_t overridden = 0;
  if (!field(st.priority) || !field(st.order) || !field(st.verifications) || !field(overridden)
      || p != end || overridden > 1)
    return std::nullopt;
  st.overridden = overridden == 1;
  return st;
}

item_state state_of(const ledger_item& it) {
  return {it.id, it.status, it.priority, it.order, it.verifications, !it.overridden_by.empty()};
}

error with_context(error e, std::string_view what) {
  e.message = std::string{what} + ": " + e.message;
  return e;
}

} // namespace

expected<task_row> ledger_store::create(std::string_view task, std::string_view goal,
                                        const std::vector<ledger_item>& items,
                                        std::int64_t now_ms, std::string_view workspace) {
  if (!valid_id(task))
    return make_error(errc::invalid_argument,
                      "task id \"" + std::string{task}
                        + "\": must be 1 to 100 of the characters A-Z a-z 0-9 . _ -");
  if (items.empty())
    return make_error(errc::invalid_argument,
                      "task " + std::string{task} + ": a ledger needs at least one item");
  task_row row;
  row.task = std::string{task};
  row.goal = std::string{goal};
  row.workspace = std::string{workspace};
  row.created_ms = now_ms;
  for (auto& it : items) {
    if (!valid_id(it.id))
      return make_error(errc::invalid_argument, "task " + row.task + ": item id \"" + it.id
                                                  + "\" is not valid");
    for (auto& seen : row.items)
      if (seen == it.id)
        return make_error(errc::invalid_argument,
                          "task " + row.task + ": item id \"" + it.id + "\" is used twice");
    row.items.push_back(it.id);
    if (auto ok = check_storable(task, it); !ok)
      return ok.error();
  }
  row.spec_hash = spec_hash(items);
  if (auto existing = this->task(task); !existing)
    return existing.error();
  else if (*existing) {
    if ((*existing)->spec_hash == row.spec_hash)
      return **existing;
    return make_error(errc::already_exists,
                      "task " + row.task
                        + " already has a ledger with other items; a ledger is never "
                          "replaced: use another task id, or edit items (approved edits)");
  }
  write_batch b;
  b.put_row(side_table::ledger, task_key(task), record{ledger_task_tag, 1, task_json(row)},
            /*if_absent=*/true);
  for (auto it : items) {
    it.status = item_status::failing;  // whatever the caller passed: failing until verified
    it.last.reset();
    it.verifications = 0;
    it.overridden_by.clear();
    put_item(b, task, it);
  }
  if (auto done = store_->commit(std::move(b)); !done)
    return with_context(done.error(), "task " + row.task + ": creating its ledger");
  return row;
}

expected<std::vector<std::string>> ledger_store::tasks(std::size_t max) const {
  std::vector<std::string> out;
  auto add = [&](std::string_view key) {
    if (out.size() < max)
      out.push_back(std::string{key.substr(2)});
  };
  // A damaged task row is listed too: reading it says what is wrong.
  auto scanned = scan_rows(
    *store_, side_table::ledger, "t/", {}, [&](const stored_row& row) { add(row.key); },
    [&](const std::string& key, const error&) { add(key); }, 256);
  if (!scanned)
    return scanned.error();
  std::sort(out.begin(), out.end());
  return out;
}

expected<task_row> ledger_store::existing(std::string_view task) const {
  auto t = this->task(task);
  if (!t)
    return t.error();
  if (!*t)
    return make_error(errc::not_found, "task " + std::string{task} + " has no ledger");
  return std::move(**t);
}

void ledger_store::put_item(write_batch& b, std::string_view task, const ledger_item& item) {
  b.put_row(side_table::ledger, item_key(task, item.id),
            record{ledger_item_tag, 1, to_json_text(item)});
  b.put_row(side_table::ledger, state_key(task, item.id),
            record{ledger_state_tag, 1, state_text(item)});
}

expected<ledger_item> ledger_store::put_audited(std::string_view task, const ledger_item& item,
                                                const task_row& row) {
  write_batch b;
  put_item(b, task, item);
  b.put_row(side_table::ledger, task_key(task), record{ledger_task_tag, 1, task_json(row)});
  if (auto done = store_->commit(std::move(b)); !done)
    return with_context(done.error(), "task " + std::string{task} + " item " + item.id);
  return item;
}

expected<std::optional<task_row>> ledger_store::task(std::string_view task) const {
  auto r = store_->row(side_table::ledger, task_key(task));
  if (!r)
    return r.error();
  if (!*r)
    return std::optional<task_row>{};
  auto t = task_from_json((*r)->payload);
  if (!t)
    return with_context(t.error(), "task " + std::string{task});
  return std::optional<task_row>{std::move(*t)};
}

expected<ledger_item> ledger_store::item(std::string_view task, std::string_view id) const {
  auto r = store_->row(side_table::ledger, item_key(task, id));
  if (!r)
    return r.error();
  if (!*r)
    return make_error(errc::not_found, "task " + std::string{task} + " has no item \""
                                         + std::string{id} + "\"");
  auto it = item_from_json((*r)->payload);
  if (!it)
    return make_error(errc::corrupt_record, "task " + std::string{task} + " item "
                                              + std::string{id} + ": " + it.error().message);
  return it;
}

expected<std::vector<ledger_item>> ledger_store::items(std::string_view task) const {
  auto t = existing(task);
  if (!t)
    return t.error();
  // One scan of the task's item rows (a page per read transaction), not a
  // read per item: a wake-up reads 10,000 items in a few milliseconds.
  auto where = "task " + std::string{task};
  std::unordered_map<std::string, ledger_item> by_id;
  std::optional<error> damaged;
  auto prefix = item_key(task, "");
  auto scanned = scan_rows(
    *store_, side_table::ledger, prefix, {},
    [&](const stored_row& row) {
      auto it = item_from_json(row.rec.payload);
      if (!it && !damaged)
        damaged = make_error(errc::corrupt_record, where + " item "
                                                     + row.key.substr(prefix.size()) + ": "
                                                     + it.error().message);
      else if (it)
        by_id.emplace(row.key.substr(prefix.size()), std::move(*it));
    },
    [&](const std::string& key, const error& why) {
      if (!damaged)
        damaged = make_error(errc::corrupt_record, where + " item " + key.substr(prefix.size())
                                                     + ": " + why.message);
    });
  if (!scanned)
    return scanned.error();
  if (damaged)  // a ledger must never look shorter than it is
    return *damaged;
  std::vector<ledger_item> out;
  out.reserve(t->items.size());
  for (auto& id : t->items) {
    auto found = by_id.find(id);
    if (found == by_id.end())
      return make_error(errc::corrupt_record, where + ": item " + id + " of its ledger is missing");
    out.push_back(std::move(found->second));
  }
  return out;
}

expected<std::vector<item_state>> ledger_store::states(std::string_view task) const {
  auto t = existing(task);
  if (!t)
    return t.error();
  std::unordered_map<std::string, item_state> by_id;
  bool usable = true;  // every row there and readable; otherwise the item rows answer
  auto prefix = state_key(task, "");
  auto scanned = scan_rows(
    *store_, side_table::ledger, prefix, {},
    [&](const stored_row& row) {
      auto id = std::string_view{row.key}.substr(prefix.size());
      if (auto st = state_from_text(id, row.rec.payload))
        by_id.emplace(st->id, std::move(*st));
      else
        usable = false;
    },
    [&](const std::string&, const error&) { usable = false; });
  if (!scanned)
    return scanned.error();
  std::vector<item_state> out;
  out.reserve(t->items.size());
  for (auto& id : t->items) {
    auto found = usable ? by_id.find(id) : by_id.end();
    if (found == by_id.end()) {
      usable = false;
      break;
    }
    out.push_back(std::move(found->second));
  }
  if (usable)
    return out;
  auto all = items(task);  // names a damaged or missing item row, if there is one
  if (!all)
    return all.error();
  out.clear();
  for (auto& it : *all)
    out.push_back(state_of(it));
  return out;
}

expected<std::vector<evidence>> ledger_store::evidence_of(std::string_view task,
                                                          std::string_view id) const {
  auto where = "task " + std::string{task} + " item " + std::string{id};
  std::vector<evidence> out;
  std::optional<error> damaged;
  auto scanned = scan_rows(
    *store_, side_table::ledger, evidence_prefix(task, id), {},
    [&](const stored_row& row) {
      auto e = evidence_from_json(row.rec.payload);
      if (e)
        out.push_back(std::move(*e));
      else if (!damaged)
        damaged = make_error(errc::corrupt_record, where + ": " + e.error().message);
    },
    [&](const std::string& key, const error&) {
      if (!damaged)
        damaged = make_error(errc::corrupt_record, where + ": evidence row " + key + " is damaged");
    },
    256);
  if (!scanned)
    return scanned.error();
  if (damaged)
    return *damaged;
  return out;
}

expected<ledger_item> ledger_store::record_verification(std::string_view task,
                                                        std::string_view id,
                                                        const evidence& e) {
  auto it = item(task, id);
  if (!it)
    return it.error();
  it->verifications += 1;
  it->status = e.passed ? item_status::passing : item_status::failing;
  it->overridden_by.clear();
  it->last = e;
  write_batch b;
  b.put_row(side_table::ledger, evidence_prefix(task, id) + hex8(it->verifications),
            record{ledger_evidence_tag, 1, to_json_text(e)});
  put_item(b, task, *it);
  if (!e.passed) {  // a complete task with a failing item would be a victory nobody earned
    auto t = this->task(task);
    if (!t)
      return with_context(t.error(), "task " + std::string{task} + " item " + std::string{id});
    if (*t && (*t)->completed_ms != 0) {
      (*t)->completed_ms = 0;
      b.put_row(side_table::ledger, task_key(task), record{ledger_task_tag, 1, task_json(**t)});
    }
  }
  if (auto done = store_->commit(std::move(b)); !done)
    return with_context(done.error(), "task " + std::string{task} + " item " + std::string{id});
  return it;
}

expected<ledger_item> ledger_store::edit(std::string_view task, std::string_view id,
                                         const item_edit& change, std::string_view approved_by) {
  auto it = item(task, id);
  if (!it)
    return it.error();
  auto t = existing(task);
  if (!t)
    return t.error();
  if (!change.description.empty())
    it->description = change.description;
  if (change.acceptance)
    it->acceptance = *change.acceptance;
  if (change.verify)
    it->verify = *change.verify;
  it->revision += 1;
  it->status = item_status::failing;
  it->overridden_by.clear();
  if (auto ok = check_storable(task, *it); !ok)
    return ok.error();
  t->completed_ms = 0;  // the edited item has not passed yet
  t->audit.push_back("edit " + it->id + " (revision " + std::to_string(it->revision)
                     + ") approved by " + std::string{approved_by});
  return put_audited(task, *it, *t);
}

expected<ledger_item> ledger_store::override_passing(std::string_view task, std::string_view id,
                                                     std::string_view by, std::string_view why) {
  if (by.empty() || why.empty())
    return make_error(errc::invalid_argument,
                      "task " + std::string{task} + " item " + std::string{id}
                        + ": an override must name who decided it and why");
  auto it = item(task, id);
  if (!it)
    return it.error();
  auto t = existing(task);
  if (!t)
    return t.error();
  it->status = item_status::passing;
  it->overridden_by = std::string{by};
  t->audit.push_back("override " + it->id + " by " + std::string{by} + ": "
                     + std::string{why});
  return put_audited(task, *it, *t);
}

expected<task_row> ledger_store::claim(std::string_view task, std::string_view run,
                                       const std::function<bool(const std::string&)>& live) {
  // Read, decide and write under one lock: two claims racing must not both
  // see the old owner gone and both win.
  static std::mutex claims;
  std::lock_guard hold{claims};
  auto t = existing(task);
  if (!t)
    return t.error();
  if (t->owner == run)
    return t;
  if (!t->owner.empty() && live(t->owner))
    return make_error(errc::invalid_state,
                      "task " + std::string{task} + " is being worked on by run " + t->owner
                        + ": one run per task (two would work the same items and number their "
                          "sessions alike); wait for run " + t->owner + " to end, or cancel it, "
                          "then start again");
  t->owner = std::string{run};
  write_batch b;
  b.put_row(side_table::ledger, task_key(task), record{ledger_task_tag, 1, task_json(*t)});
  if (auto done = store_->commit(std::move(b)); !done)
    return with_context(done.error(), "task " + std::string{task} + ": claiming it for run "
                                        + std::string{run});
  return t;
}

expected<task_row> ledger_store::complete(std::string_view task, std::int64_t now_ms) {
  auto t = existing(task);
  if (!t)
    return t.error();
  // The item rows, not the standing rows: completing is the guard against
  // premature victory and runs once per task, and a standing row is a copy
  // that a build from before them does not update.
  auto all = items(task);
  if (!all)
    return all.error();
  std::string failing;
  for (auto& it : *all)
    if (it.status != item_status::passing)
      failing += (failing.empty() ? "" : ", ") + it.id;
  if (!failing.empty())
    return make_error(errc::invalid_state, "task " + std::string{task}
                                             + " cannot complete: these items fail: " + failing);
  if (t->completed_ms == 0) {
    t->completed_ms = now_ms;
    write_batch b;
    b.put_row(side_table::ledger, task_key(task), record{ledger_task_tag, 1, task_json(*t)});
    if (auto done = store_->commit(std::move(b)); !done)
      return with_context(done.error(), "task " + std::string{task});
  }
  return t;
}

expected<void> ledger_store::append_progress(std::string_view task, const progress_entry& e) {
  write_batch b;
  b.put_row(side_table::progress, progress_key(task, e.session),
            record{progress_entry_tag, 1, to_json_text(e)});
  if (auto done = store_->commit(std::move(b)); !done)
    return with_context(done.error(), "task " + std::string{task} + " progress entry of session "
                                        + std::to_string(e.session));
  return {};
}

namespace {

void add_entry(ledger_store::progress_log& log, const stored_row& row) {
  auto e = progress_from_json(row.rec.payload);
  if (e)
    log.entries.push_back(std::move(*e));
  else
    log.damaged.push_back("row " + row.key + ": " + e.error().message);
}

void add_damaged(ledger_store::progress_log& log, const std::string& key, const error& why) {
  log.damaged.push_back("row " + key + ": " + why.message);
}

} // namespace

expected<ledger_store::progress_log> ledger_store::progress(std::string_view task) const {
  progress_log log;
  auto scanned = scan_rows(
    *store_, side_table::progress, std::string{task} + "/", {},
    [&](const stored_row& row) { add_entry(log, row); },
    [&](const std::string& key, const error& why) { add_damaged(log, key, why); }, 256);
  if (!scanned)
    return scanned.error();
  return log;
}

expected<ledger_store::progress_log> ledger_store::progress(std::string_view task,
                                                            std::size_t newest) const {
  // The newest `newest` entries that read: a damaged row is reported and
  // the read reaches one row further back for each (a new run takes the
  // session it follows from the newest entry, so a damaged newest row must
  // not read as an empty log: it would start over at session 1 and write
  // over the log).
  progress_log log;
  for (std::size_t rows = newest; rows > 0;) {
    auto page = store_->last_rows(side_table::progress, std::string{task} + "/", rows);
    if (!page)
      return page.error();
    log = {};
    for (auto& row : page->rows)
      add_entry(log, row);
    for (auto& [key, why] : page->damaged)
      add_damaged(log, key, why);
    if (log.entries.size() >= newest || page->rows.size() + page->damaged.size() < rows)
      break;
    rows += newest - log.entries.size();
  }
  if (log.entries.size() > newest)
    log.entries.erase(log.entries.begin(),
                      log.entries.end() - static_cast<std::ptrdiff_t>(newest));
  return log;
}

expected<std::string> ledger_store::export_json(std::string_view task) const {
  auto t = existing(task);
  if (!t)
    return t.error();
  auto all = items(task);
  if (!all)
    return all.error();
  json out{{"task", t->task},           {"goal", t->goal},   {"workspace", t->workspace},
           {"audit", t->audit},         {"owner", t->owner}};
  json list = json::array();
  std::size_t passing = 0;
  for (auto& it : *all) {
    passing += it.status == item_status::passing ? 1 : 0;
    list.push_back(json::parse(to_json_text(it)));
  }
  out["passing"] = passing;
  out["failing"] = all->size() - passing;
  out["complete"] = t->completed_ms != 0;
  out["completed_ms"] = t->completed_ms;
  out["items"] = std::move(list);
  return out.dump(2, ' ', false, json::error_handler_t::replace);
}

} // namespace endure::state
