// A session's view of its ledger (ledger_view.hpp).
#include "endure/actors/state/ledger_view.hpp"

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

bool listed_before(const item_state* a, const item_state* b) {
  return listing_key(*a) < listing_key(*b);
}

/// The `k` failing items other than `current` first in listing order.
std::vector<const item_state*> next_failing(std::span<const item_state> items,
                                            std::string_view current, std::size_t k) {
  std::vector<const item_state*> failing;
  for (auto& it : items)
    if (it.status == item_status::failing && it.id != current)
      failing.push_back(&it);
  auto n = std::min(k, failing.size());
  std::partial_sort(failing.begin(), failing.begin() + static_cast<std::ptrdiff_t>(n),
                    failing.end(), listed_before);
  failing.resize(n);
  return failing;
}

} // namespace

const item_state* next_to_work_on(std::span<const item_state> items) {
  const item_state* best = nullptr;
  auto key = [](const item_state& it) {
    return std::tuple{it.verifications >= 3, it.priority, it.order};
  };
  for (auto& it : items)
    if (it.status == item_status::failing && (!best || key(it) < key(*best)))
      best = &it;
  return best;
}

namespace {

/// The view's counts and current id, and the items it holds (pointers
/// into `states`), without their full rows.
ledger_view pick(std::span<const item_state> states, std::size_t next_items,
                 std::vector<const item_state*>& wanted) {
  ledger_view view;
  view.total = states.size();
  view.passing = static_cast<std::size_t>(
    std::count_if(states.begin(), states.end(),
                  [](const item_state& it) { return it.status == item_status::passing; }));
  if (auto* chosen = next_to_work_on(states)) {
    view.current = chosen->id;
    wanted.push_back(chosen);
  }
  for (auto* it : next_failing(states, view.current, next_items))
    wanted.push_back(it);
  return view;
}

} // namespace

expected<ledger_view> read_view(const ledger_store& ledger, std::string_view task,
                                std::size_t next_items) {
  auto states = ledger.states(task);
  if (!states)
    return states.error();
  std::vector<const item_state*> wanted;
  auto view = pick(*states, next_items, wanted);
  for (auto* it : wanted) {
    auto full = ledger.item(task, it->id);
    if (!full)
      return full.error();
    view.items.push_back(std::move(*full));
  }
  return view;
}

ledger_view view_of(std::span<const ledger_item> all, std::size_t next_items) {
  std::vector<item_state> states;
  states.reserve(all.size());
  for (auto& it : all)
    states.push_back(
      {it.id, it.status, it.priority, it.order, it.verifications, !it.overridden_by.empty()});
  std::vector<const item_state*> wanted;
  auto view = pick(states, next_items, wanted);
  for (auto* it : wanted)
    view.items.push_back(all[static_cast<std::size_t>(it - states.data())]);
  return view;
}

std::string to_json_text(const ledger_view& view) {
  json items = json::array();
  for (auto& it : view.items)
    items.push_back(to_json_text(it));
  return json{{"total", view.total}, {"passing", view.passing}, {"current", view.current},
              {"items", std::move(items)}}
    .dump();
}

expected<ledger_view> ledger_view_from_json(std::string_view text) {
  try {
    auto j = json::parse(text);
    ledger_view view;
    view.total = j.at("total").get<std::size_t>();
    view.passing = j.at("passing").get<std::size_t>();
    view.current = j.at("current").get<std::string>();
    for (auto& row : j.at("items")) {
      auto it = item_from_json(row.get<std::string>());
      if (!it)
        return make_error(errc::corrupt_record, "ledger view: " + it.error().message);
      view.items.push_back(std::move(*it));
    }
    // The session works on items.front() as the current item.
    if (!view.current.empty() && (view.items.empty() || view.items.front().id != view.current))
      return make_error(errc::corrupt_record,
                        "ledger view: current item '" + view.current + "' is not its first item");
    return view;
  } catch (const json::exception& e) {
    return make_error(errc::corrupt_record, std::string{"ledger view: "} + e.what());
  }
}

} // namespace endure::state
