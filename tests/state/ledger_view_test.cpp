// What a session orients by, on a real LMDB journal: the ledger's view
// (counts, the item to work on, the next failing items) read from the
// items' standing rows must say exactly what the whole ledger says, after
// every kind of change (verifications passing and failing, an override, an
// edit), also when the standing rows are missing (a ledger written before
// they existed) or damaged; and the context assembled from the view must be
// byte for byte the one assembled from the whole ledger.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/events.hpp"
#include "endure/actors/state/context_assembler.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/ledger_view.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/persistence/journal.hpp"
#include "state/state_journal.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::state;
using json = nlohmann::json;

namespace {

/// `n` items whose priorities repeat 2, 0, 1, 2, 0, 1, ... so listing order
/// is not ledger order.
std::vector<ledger_item> items_of(std::size_t n) {
  json items = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    auto id = "item-" + std::to_string(100 + i);
    items.push_back({{"id", id},
                     {"description", "Do " + id},
                     {"priority", (i + 2) % 3},
                     {"acceptance", {"it is done"}},
                     {"verification", {{"command", "test -f " + id}}}});
  }
  auto spec = ledger_spec_from_json(json{{"items", items}}.dump());
  REQUIRE(spec);
  return *spec;
}

evidence proof(bool passed) {
  evidence e;
  e.ran = "test -f x";
  e.passed = passed;
  e.exit_status = passed ? 0 : 1;
  e.reason = passed ? "" : "exit status 1, expected 0";
  e.at_ms = 1000;
  return e;
}

/// The view as the whole ledger says it should be, computed independently
/// of read_view: the choice rule and the listing order, spelled out.
ledger_view expected_view(const std::vector<ledger_item>& all, std::size_t next_items) {
  ledger_view v;
  v.total = all.size();
  const ledger_item* chosen = nullptr;
  auto choice = [](const ledger_item& it) {
    return std::tuple{it.verifications >= 3, it.priority, it.order};
  };
  std::vector<const ledger_item*> failing;
  for (auto& it : all) {
    if (it.status == item_status::passing) {
      ++v.passing;
      continue;
    }
    failing.push_back(&it);
    if (!chosen || choice(it) < choice(*chosen))
      chosen = &it;
  }
  if (chosen) {
    v.current = chosen->id;
    v.items.push_back(*chosen);
  }
  std::sort(failing.begin(), failing.end(), [](auto* a, auto* b) {
    return std::tie(a->priority, a->order, a->id) < std::tie(b->priority, b->order, b->id);
  });
  for (auto* it : failing)
    if (it != chosen && v.items.size() < next_items + (chosen ? 1 : 0))
      v.items.push_back(*it);
  return v;
}

std::vector<std::string> ids_of(const std::vector<ledger_item>& items) {
  std::vector<std::string> out;
  for (auto& it : items)
    out.push_back(it.id);
  return out;
}

void check_view_matches(const ledger_store& store, const std::string& task,
                        std::size_t next_items) {
  auto all = store.items(task);
  REQUIRE(all);
  auto want = expected_view(*all, next_items);
  auto got = read_view(store, task, next_items);
  REQUIRE(got);
  CHECK(got->total == want.total);
  CHECK(got->passing == want.passing);
  CHECK(got->current == want.current);
  CHECK(ids_of(got->items) == ids_of(want.items));
  for (std::size_t i = 0; i < std::min(got->items.size(), want.items.size()); ++i)
    CHECK(to_json_text(got->items[i]) == to_json_text(want.items[i]));
  // The same view of the whole ledger already read (an earlier build's
  // journaled orient step, replayed).
  auto of_all = view_of(*all, next_items);
  CHECK(of_all.total == want.total);
  CHECK(of_all.passing == want.passing);
  CHECK(of_all.current == want.current);
  CHECK(ids_of(of_all.items) == ids_of(want.items));
  // The journaled form reads back as the same view.
  auto back = ledger_view_from_json(to_json_text(*got));
  REQUIRE(back);
  CHECK(back->current == got->current);
  CHECK(ids_of(back->items) == ids_of(got->items));
  CHECK(back->total == got->total);
  CHECK(back->passing == got->passing);
  if (!got->current.empty()) {  // the session works on items.front(): it must be the current
    auto j = json::parse(to_json_text(*got));
    j["items"].erase(0);
    CHECK(ledger_view_from_json(j.dump()).error().code == errc::corrupt_record);
  }
}

/// Every item's standing as the item rows say it.
void check_states_match(const ledger_store& store, const std::string& task) {
  auto all = store.items(task);
  auto states = store.states(task);
  REQUIRE(all);
  REQUIRE(states);
  REQUIRE(states->size() == all->size());
  for (std::size_t i = 0; i < all->size(); ++i) {
    auto& it = (*all)[i];
    auto& st = (*states)[i];
    CHECK(st.id == it.id);
    CHECK(st.status == it.status);
    CHECK(st.priority == it.priority);
    CHECK(st.order == it.order);
    CHECK(st.verifications == it.verifications);
    CHECK(st.overridden == !it.overridden_by.empty());
  }
}

/// A ledger of 40 items after every kind of change the store makes.
void change_everything(ledger_store& store) {
  REQUIRE(store.create("big", "goal", items_of(40), 1));
  for (auto id : {"item-101", "item-104", "item-107", "item-110"})  // priority 0: passing
    REQUIRE(store.record_verification("big", id, proof(true)));
  for (int i = 0; i < 3; ++i)  // failed three times: waits behind the others
    REQUIRE(store.record_verification("big", "item-113", proof(false)));
  REQUIRE(store.record_verification("big", "item-104", proof(false)));  // passing, then not
  REQUIRE(store.override_passing("big", "item-116", "ann", "checked by hand"));
  item_edit change;
  change.acceptance = std::vector<std::string>{"it is done twice"};
  REQUIRE(store.record_verification("big", "item-119", proof(true)));
  REQUIRE(store.edit("big", "item-119", change, "bob"));  // edited: failing again
}

} // namespace

SCENARIO("a ledger's view says what its whole ledger says, after every kind of change",
         "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  change_everything(store);
  check_states_match(store, "big");
  for (std::size_t k : {0u, 1u, 5u, 20u, 100u})
    check_view_matches(store, "big", k);
  auto view = read_view(store, "big", 5);
  REQUIRE(view);
  CHECK(view->passing == 4);  // 101, 107, 110 by evidence, 116 by override
  CHECK(view->current == "item-104");  // priority 0, its first failure; 113 failed thrice
  CHECK(view->items.size() == 6);

  // Every item passing: no current item, nothing listed.
  auto all = store.items("big");
  REQUIRE(all);
  for (auto& it : *all)
    if (it.status == item_status::failing)
      REQUIRE(store.record_verification("big", it.id, proof(true)));
  auto done = read_view(store, "big", 5);
  REQUIRE(done);
  CHECK(done->current.empty());
  CHECK(done->items.empty());
  CHECK(done->passing == 40);
  CHECK(read_view(store, "none", 5).error().code == errc::not_found);
}

SCENARIO("a ledger without its standing rows, or with a damaged one, is read from its items",
         "[state][ledger]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  change_everything(store);
  auto before = read_view(store, "big", 20);
  REQUIRE(before);
  WHEN("one standing row is damaged") {
    write_batch damage;
    damage.put_row(side_table::ledger, "s/big/item-104", record{ledger_state_tag, 1, "P x"});
    REQUIRE(j->commit(std::move(damage)));
  }
  WHEN("the standing rows are gone (a ledger written before they existed)") {
    write_batch gone;
    for (auto& it : items_of(40))
      gone.erase_row(side_table::ledger, "s/big/" + it.id);
    REQUIRE(j->commit(std::move(gone)));
  }
  check_states_match(store, "big");
  check_view_matches(store, "big", 20);
  auto after = read_view(store, "big", 20);
  REQUIRE(after);
  CHECK(after->current == before->current);
  CHECK(ids_of(after->items) == ids_of(before->items));
  // A damaged item row is still named, not skipped.
  write_batch damage;
  damage.put_row(side_table::ledger, "i/big/item-130", record{ledger_item_tag, 1, "{oops"});
  REQUIRE(j->commit(std::move(damage)));
  auto gone = store.states("big");  // read from the item rows: the damaged one is named
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == errc::corrupt_record);
  CHECK_THAT(gone.error().message, Catch::Matchers::Contains("item-130"));
}

SCENARIO("the context assembled from a ledger's view is the one assembled from the whole ledger",
         "[state][ledger][context]") {
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  change_everything(store);
  auto all = store.items("big");
  REQUIRE(all);
  for (std::size_t budget : {400u, 900u, 4000u}) {
    context_limits limits;
    limits.next_items = 7;
    auto view = read_view(store, "big", limits.next_items);
    REQUIRE(view);
    context_inputs whole;
    whole.task = "big";
    whole.goal = "goal";
    whole.instructions = "Work on the current item.";
    whole.items = *all;
    whole.current_item = view->current;
    whole.budget_tokens = budget;
    whole.limits = limits;
    auto part = whole;
    part.items = view->items;
    part.counts = ledger_counts{view->total, view->passing};
    auto a = assemble_context(whole);
    auto b = assemble_context(part);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(b->user == a->user);
    CHECK(b->prompt_hash == a->prompt_hash);
    REQUIRE(b->manifest.size() == a->manifest.size());
    for (std::size_t i = 0; i < a->manifest.size(); ++i) {
      CHECK(b->manifest[i].detail == a->manifest[i].detail);
      CHECK(b->manifest[i].reason == a->manifest[i].reason);
    }
    // Counts that cannot be the whole ledger's are refused, not rendered.
    auto wrong = part;
    wrong.counts = ledger_counts{3, 0};
    CHECK(assemble_context(wrong).error().code == errc::invalid_argument);
    // A view that lists fewer failing items than the context would (read
    // with a smaller next_items than the assembler's limit) is refused: the
    // items it left out may come first in listing order.
    auto shorter = read_view(store, "big", limits.next_items - 2);
    REQUIRE(shorter);
    auto few = part;
    few.items = shorter->items;
    auto refused = assemble_context(few);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == errc::invalid_argument);
    CHECK_THAT(refused.error().message, Catch::Matchers::Contains("next failing"));
    // Fewer passing items counted than given: not the whole ledger's counts.
    auto passing = part;
    std::vector<ledger_item> with_passing = view->items;
    for (auto& it : *all)
      if (it.status == item_status::passing)
        with_passing.push_back(it);
    passing.items = with_passing;
    passing.counts = ledger_counts{view->total, 1};
    CHECK(assemble_context(passing).error().code == errc::invalid_argument);
  }
}

SCENARIO("a task does not complete while an item row fails, whatever its standing row says",
         "[state][ledger]") {
  // The standing rows are a copy written beside the item rows. A build from
  // before them writes the item rows only (a rollback, then this build
  // again): a standing row can then say passing where its item now fails.
  // Completing is the guard against premature victory: it reads the items.
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  REQUIRE(store.create("small", "goal", items_of(3), 1));
  for (auto id : {"item-100", "item-101", "item-102"})
    REQUIRE(store.record_verification("small", id, proof(true)));
  auto it = store.item("small", "item-101");
  REQUIRE(it);
  it->status = item_status::failing;  // as the earlier build's failed verification wrote it
  it->verifications += 1;
  it->last = proof(false);
  write_batch earlier;
  earlier.put_row(side_table::ledger, "i/small/item-101",
                  record{ledger_item_tag, 1, to_json_text(*it)});
  REQUIRE(j->commit(std::move(earlier)));
  auto done = store.complete("small", 5);
  REQUIRE_FALSE(done);
  CHECK(done.error().code == errc::invalid_state);
  CHECK_THAT(done.error().message, Catch::Matchers::Contains("item-101"));
}

SCENARIO("a view reads the items' standing rows and the full rows of the items it holds only",
         "[state][ledger]") {
  // What makes orienting cheap: an item the view does not hold is never
  // parsed. A damaged row of one (seen by items()) does not fail the view.
  test::temp_dir dir;
  auto j = test::open_state_journal(dir.path());
  ledger_store store{*j};
  change_everything(store);
  auto before = read_view(store, "big", 5);
  REQUIRE(before);
  for (auto& it : before->items)
    REQUIRE(it.id != "item-139");  // priority 2, late in the ledger: not held
  write_batch damage;
  damage.put_row(side_table::ledger, "i/big/item-139", record{ledger_item_tag, 1, "{oops"});
  REQUIRE(j->commit(std::move(damage)));
  REQUIRE_FALSE(store.items("big"));
  auto states = store.states("big");
  REQUIRE(states);
  CHECK(states->size() == 40);
  auto after = read_view(store, "big", 5);
  REQUIRE(after);
  CHECK(after->current == before->current);
  CHECK(ids_of(after->items) == ids_of(before->items));
  CHECK(after->total == 40);
}
