// A task's state for people and tools (task_report.hpp).
#include "endure/actors/state/task_report.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "endure/actors/state/artifact_store.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

/// The stores write through a journal; the report only reads (a read-only
/// journal refuses writes anyway).
journal& reader(const journal& store) { return const_cast<journal&>(store); }

json commits_of(const std::string& dir) {
  json out = json::array();
  if (dir.empty())
    return out;
  auto ws = workspace::open_existing(dir);
  if (!ws)
    return out;
  auto log = ws->log(50);
  if (!log)
    return out;
  for (auto& c : *log)
    out.push_back({{"id", c.id}, {"message", c.message.substr(0, c.message.find('\n'))}});
  return out;
}

expected<json> report(const journal& store, std::string_view task) {
  ledger_store ledger{reader(store)};
  auto exported = ledger.export_json(task);
  if (!exported)
    return exported.error();
  json out{{"ledger", json::parse(*exported)}};
  auto progress = ledger.progress(task);
  if (!progress)
    return progress.error();
  out["progress"] = json::array();
  for (auto& e : progress->entries)
    out["progress"].push_back(json::parse(to_json_text(e)));
  out["progress_damaged"] = progress->damaged;
  out["artifacts"] = json::array();
  if (auto listed = artifact_store{reader(store)}.list(task))
    for (auto& a : *listed)
      out["artifacts"].push_back({{"name", a.name},
                                  {"hash", a.hash},
                                  {"size", a.size},
                                  {"run_id", a.provenance.run_id},
                                  {"session", a.provenance.session},
                                  {"step", a.provenance.step},
                                  {"at_ms", a.at_ms}});
  out["commits"] = commits_of(out["ledger"].value("workspace", ""));
  return out;
}

std::string item_line(const json& it, std::size_t id_width) {
  auto id = it["id"].get<std::string>();
  id.resize(std::max(id.size(), id_width), ' ');
  std::string line = "  " + id + "  " + it["status"].get<std::string>();
  if (!it["overridden_by"].get<std::string>().empty())
    return line + "  (override by " + it["overridden_by"].get<std::string>() + ")";
  auto& last = it["last"];
  if (last.is_null())
    return line + "  (never verified)";
  line += "  " + std::to_string(it["verifications"].get<int>()) + " verification(s); last: "
          + (last["passed"].get<bool>() ? std::string{"passed"}
                                        : "failed: " + last["reason"].get<std::string>())
          + " [" + last["ran"].get<std::string>().substr(0, 60) + "]";
  return line;
}

} // namespace

expected<std::string> task_report_json(const journal& store, std::string_view task) {
  auto r = report(store, task);
  if (!r)
    return r.error();
  return r->dump(2);
}

expected<std::string> task_report_text(const journal& store, std::string_view task) {
  auto r = report(store, task);
  if (!r)
    return r.error();
  auto& l = (*r)["ledger"];
  std::string out = "task " + l["task"].get<std::string>() + ": " + l["goal"].get<std::string>()
                    + "\n  " + std::to_string(l["passing"].get<int>()) + " passing, "
                    + std::to_string(l["failing"].get<int>()) + " failing"
                    + (l["complete"].get<bool>() ? ", complete" : "")
                    + (l.value("owner", "").empty() ? "" : "; run " + l.value("owner", ""))
                    + "\n\nledger:\n";
  std::size_t id_width = 0;
  for (auto& it : l["items"])
    id_width = std::max(id_width, it["id"].get_ref<const std::string&>().size());
  for (auto& it : l["items"])
    out += item_line(it, id_width) + "\n";
  for (auto& a : l["audit"])
    out += "  audit: " + a.get<std::string>() + "\n";
  out += "\nprogress log (oldest first):\n";
  for (auto& e : (*r)["progress"]) {
    std::string items;
    for (auto& i : e["items"])
      items += (items.empty() ? "" : ",") + i.get<std::string>();
    out += "  session " + std::to_string(e["session"].get<int>()) + " ["
           + e["model"].get<std::string>() + "] " + (items.empty() ? "-" : items) + ": "
           + e["ended"].get<std::string>() + ". Next: " + e["next"].get<std::string>() + "\n";
  }
  for (auto& d : (*r)["progress_damaged"])
    out += "  damaged entry: " + d.get<std::string>() + "\n";
  if (!(*r)["artifacts"].empty()) {
    out += "\nartifacts:\n";
    for (auto& a : (*r)["artifacts"])
      out += "  " + a["name"].get<std::string>() + "  " + a["hash"].get<std::string>().substr(0, 12)
             + "  " + std::to_string(a["size"].get<std::uint64_t>()) + " bytes  run "
             + a["run_id"].get<std::string>() + " session "
             + std::to_string(a["session"].get<int>()) + "\n";
  }
  if (!(*r)["commits"].empty()) {
    out += "\nworkspace " + l["workspace"].get<std::string>() + ", last commits:\n";
    int shown = 0;
    for (auto& c : (*r)["commits"])
      if (shown++ < 10)
        out += "  " + c["id"].get<std::string>().substr(0, 12) + " "
               + c["message"].get<std::string>() + "\n";
  }
  return out;
}

expected<std::string> task_list_json(const journal& store) {
  ledger_store ledger{reader(store)};
  auto ids = ledger.tasks();
  if (!ids)
    return ids.error();
  json out{{"tasks", json::array()}};
  for (auto& id : *ids) {
    auto exported = ledger.export_json(id);
    if (!exported) {
      out["tasks"].push_back({{"task", id}, {"error", exported.error().message}});
      continue;
    }
    auto l = json::parse(*exported);
    out["tasks"].push_back({{"task", id},
                            {"goal", l["goal"]},
                            {"items", l["items"].size()},
                            {"passing", l["passing"]},
                            {"complete", l["complete"]}});
  }
  return out.dump(2);
}

} // namespace endure::state
