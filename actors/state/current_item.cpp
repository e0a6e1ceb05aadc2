// What the session loop tells the tools (current_item.hpp).
#include "endure/actors/state/current_item.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "endure/actors/state/ledger_json.hpp"

namespace endure::state {

std::string current_item_json(const std::string& task, std::uint32_t session,
                              const ledger_item& item) {
  auto j = nlohmann::json::parse(to_json_text(item));
  j["task"] = task;
  j["session"] = session;
  return j.dump(2);
}

expected<current_item> read_current_item(const std::filesystem::path& workspace) {
  auto path = workspace / current_item_file;
  std::ifstream in{path};
  if (!in)
    return make_error(errc::not_found, path.string() + ": no session has chosen an item yet");
  std::stringstream text;
  text << in.rdbuf();
  auto item = item_from_json(text.str());
  auto where = path.string() + ": ";
  if (!item)
    return make_error(errc::corrupt_record, where + item.error().message);
  try {
    auto j = nlohmann::json::parse(text.str());
    return current_item{j.at("task").get<std::string>(), j.at("session").get<std::uint32_t>(),
                        std::move(*item)};
  } catch (const nlohmann::json::exception& e) {
    return make_error(errc::corrupt_record, where + e.what());
  }
}

} // namespace endure::state
