// The context assembler as a session relies on it: the prompt never exceeds
// the budget; the current item is always in it, whole, or the call fails
// with an error that says by how much; everything left out is in the
// manifest with its reason; and the same state gives the same bytes and
// hash whatever order the ledger and the memories came in.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <regex>

#include "endure/actors/state/context_assembler.hpp"

using namespace endure;
using namespace endure::state;

namespace {

/// Owns what context_inputs spans point at.
struct state_fixture {
  std::vector<ledger_item> items;
  std::vector<progress_entry> progress;
  std::vector<memory_hit> memories;
  std::vector<std::string> recent;
  std::string current = "item-000";
  std::string instructions = "You are a careful engineer. Work on the current item only.";
  std::string goal = "Write the documentation of endure, one page per topic.";
  std::size_t budget = 100'000;

  context_inputs inputs() const {
    context_inputs in;
    in.task = "docs";
    in.goal = goal;
    in.instructions = instructions;
    in.items = items;
    in.progress = progress;
    in.current_item = current;
    in.memories = memories;
    in.recent = recent;
    in.budget_tokens = budget;
    return in;
  }
};

ledger_item make_item(std::size_t i, std::int32_t priority, std::size_t desc_len = 40) {
  ledger_item it;
  char id[32];
  std::snprintf(id, sizeof id, "item-%03zu", i);
  it.id = id;
  it.description = "Write page " + std::to_string(i) + " " + std::string(desc_len, 'd');
  it.priority = priority;
  it.order = static_cast<std::uint32_t>(i);
  it.acceptance = {"criterion A of " + it.id, "criterion B of " + it.id};
  it.verify.command = "test -s docs/" + it.id + ".md";
  return it;
}

evidence failed_evidence(const std::string& why) {
  evidence e;
  e.ran = "test -s docs/page.md";
  e.exit_status = 1;
  e.reason = why;
  e.output_tail = "no such file\n";
  e.at_ms = 1'700'000'000'000;
  e.session = 3;
  e.run_id = "run-7";
  return e;
}

progress_entry make_progress(std::uint32_t session, std::size_t len = 30) {
  progress_entry p;
  p.session = session;
  p.at_ms = 1'700'000'000'000 + session;
  p.model = "sim";
  p.items = {"item-000"};
  p.tried = "tried thing " + std::to_string(session) + " " + std::string(len, 't');
  p.next = "next step of session " + std::to_string(session);
  p.ended = "budget";
  return p;
}

/// A state of `n` items (every third passing), progress, memories, recent.
state_fixture sample_state(std::size_t n = 50) {
  state_fixture s;
  for (std::size_t i = 0; i < n; ++i) {
    auto it = make_item(i, static_cast<std::int32_t>(i % 4));
    if (i % 3 == 1)
      it.status = item_status::passing;
    s.items.push_back(std::move(it));
  }
  s.items[0].last = failed_evidence("docs/item-000.md is empty");
  for (std::uint32_t k = 1; k <= 15; ++k)
    s.progress.push_back(make_progress(k));
  for (int m = 0; m < 30; ++m)
    s.memories.push_back({"mem-" + std::to_string(m), "remembered fact " + std::to_string(m),
                          1.0 - m * 0.01});
  for (int r = 0; r < 25; ++r)
    s.recent.push_back("tool result " + std::to_string(r));
  return s;
}

std::size_t tokens_of(const assembled_context& c) {
  return 2 * message_overhead_tokens + estimate_tokens(c.system) + estimate_tokens(c.user);
}

const context_section* find_entry(const assembled_context& c, std::string_view name,
                                  std::string_view detail) {
  for (const auto& e : c.manifest)
    if (e.name == name && e.detail == detail)
      return &e;
  return nullptr;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

} // namespace

SCENARIO("the assembler refuses a current item it cannot put in whole") {
  GIVEN("a ledger") {
    auto s = sample_state();
    WHEN("the current item is not in the ledger") {
      s.current = "no-such-item";
      auto r = assemble_context(s.inputs());
      THEN("the error is not_found and names the item") {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_found);
        CHECK(contains(r.error().message, "'no-such-item'"));
        CHECK(contains(r.error().message, "docs"));
      }
    }
    WHEN("the ledger is empty") {
      s.items.clear();
      auto r = assemble_context(s.inputs());
      THEN("the current item cannot be in it: not_found") {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_found);
      }
    }
    WHEN("no current item is given") {
      s.current.clear();
      auto r = assemble_context(s.inputs());
      THEN("the error is invalid_argument") {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::invalid_argument);
      }
    }
    WHEN("the current item's id occurs twice") {
      s.items.push_back(make_item(0, 3));
      auto r = assemble_context(s.inputs());
      THEN("the error is invalid_argument naming the id") {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::invalid_argument);
        CHECK(contains(r.error().message, "'item-000' occurs 2 times"));
      }
    }
  }
}

SCENARIO("an item too large for the budget is an error saying by how much") {
  GIVEN("a current item whose evidence alone is 8,000 characters") {
    auto s = sample_state();
    s.items[0].last->output_tail = std::string(8000, 'x');
    s.budget = 1000;
    WHEN("the budget is 1,000 tokens") {
      auto r = assemble_context(s.inputs());
      THEN("the error names the item, the budget and what to do") {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::invalid_argument);
        const auto& msg = r.error().message;
        CHECK(contains(msg, "'item-000'"));
        CHECK(contains(msg, "budget of 1000"));
        CHECK(contains(msg, "split item"));
        std::smatch m;
        REQUIRE(std::regex_search(msg, m, std::regex("need (\\d+) tokens.*, (\\d+) more than")));
        auto need = std::stoul(m[1]);
        CHECK(std::stoul(m[2]) == need - 1000);
        AND_THEN("the stated need is exact: one token less fails, that many succeeds") {
          s.budget = need - 1;
          CHECK_FALSE(assemble_context(s.inputs()));
          s.budget = need;
          auto ok = assemble_context(s.inputs());
          REQUIRE(ok);
          CHECK(ok->tokens <= need);
          CHECK(contains(ok->user, std::string(8000, 'x')));
        }
      }
    }
  }
}

SCENARIO("the budget is never exceeded and the current item is always in whole") {
  GIVEN("300 random states and budgets") {
    std::mt19937_64 rng(18);
    for (int round = 0; round < 300; ++round) {
      state_fixture s;
      auto n = 1 + rng() % 60;
      for (std::size_t i = 0; i < n; ++i) {
        auto it = make_item(i, static_cast<std::int32_t>(rng() % 5), rng() % 300);
        if (rng() % 3 == 0)
          it.status = item_status::passing;
        if (rng() % 2 == 0)
          it.last = failed_evidence(std::string(rng() % 200, 'r'));
        s.items.push_back(std::move(it));
      }
      s.current = s.items[rng() % n].id;
      for (std::uint32_t k = 1, np = static_cast<std::uint32_t>(rng() % 20); k <= np; ++k)
        s.progress.push_back(make_progress(k, rng() % 400));
      for (std::size_t m = 0, nm = rng() % 40; m < nm; ++m)
        s.memories.push_back({"k" + std::to_string(m), std::string(rng() % 300, 'm'),
                              static_cast<double>(rng() % 100) / 100.0});
      for (std::size_t r = 0, nr = rng() % 30; r < nr; ++r)
        s.recent.push_back(std::string(rng() % 500, 'z'));
      s.budget = 50 + rng() % 4000;
      auto c = assemble_context(s.inputs());
      if (!c) {
        CHECK(c.error().code == errc::invalid_argument);
        CHECK(contains(c.error().message, "more than the budget of " + std::to_string(s.budget)));
        continue;
      }
      INFO("round " << round << ", budget " << s.budget);
      CHECK(c->tokens == tokens_of(*c));
      CHECK(c->tokens <= s.budget);
      CHECK(c->system == s.instructions);
      CHECK(contains(c->user, "## Current item: " + s.current + "\n"));
      const auto& cur = *std::find_if(s.items.begin(), s.items.end(),
                                      [&](auto& it) { return it.id == s.current; });
      for (const auto& a : cur.acceptance)
        CHECK(contains(c->user, "- " + a + "\n"));
      if (cur.last)
        CHECK(contains(c->user, cur.last->reason));
      for (const auto& e : c->manifest)
        CHECK_FALSE(e.reason.empty());
    }
  }
}

SCENARIO("what is left out is in the manifest with its reason") {
  GIVEN("30 failing items, 15 progress entries, 30 memories and 25 results") {
    auto s = sample_state(45);
    WHEN("the budget is large") {
      auto c = assemble_context(s.inputs());
      REQUIRE(c);
      THEN("the sections past their limits say so") {
        auto* next = find_entry(*c, "next_failing", "9 more failing items");
        REQUIRE(next);
        CHECK_FALSE(next->included);
        CHECK(next->reason == "limit: only the 20 next failing items are listed");
        auto* prog = find_entry(*c, "progress", "5 older entries");
        REQUIRE(prog);
        CHECK(prog->reason == "limit: only the 10 newest progress entries are listed");
        auto* mem = find_entry(*c, "memory", "10 more hits");
        REQUIRE(mem);
        CHECK(mem->reason == "limit: only the 20 best memory hits are considered");
        auto* rec = find_entry(*c, "recent", "5 older results");
        REQUIRE(rec);
        CHECK(rec->reason == "limit: only the 20 newest results are listed");
        CHECK(contains(c->user, "## Ledger: 45 items, 15 passing, 30 failing\n"));
      }
      THEN("the required part is marked required and the rest fits") {
        CHECK(c->manifest[0].name == "instructions");
        CHECK(c->manifest[0].reason == "required");
        CHECK(find_entry(*c, "current_item", "item-000")->reason == "required");
        CHECK(find_entry(*c, "memory", "mem-0")->reason == "fits");
      }
    }
    WHEN("the budget leaves room for the ledger summary but not for all the progress") {
      auto full = assemble_context(s.inputs());
      REQUIRE(full);
      auto* p15 = find_entry(*full, "progress", "session 15");
      REQUIRE(p15);
      // Room up to the newest progress entry and 5 tokens more: not the
      // second newest (a sum of per-entry estimates is never below the
      // estimate of their concatenation).
      std::size_t upto_ledger = 0;
      for (const auto& e : full->manifest) {
        upto_ledger += e.tokens;
        if (&e == p15)
          break;
      }
      s.budget = upto_ledger + 2 * message_overhead_tokens + 5;
      auto c = assemble_context(s.inputs());
      REQUIRE(c);
      THEN("the newest entry is in, an older one is out with the budget's numbers") {
        CHECK(c->tokens <= s.budget);
        CHECK(find_entry(*c, "progress", "session 15")->included);
        CHECK(contains(c->user, "### Session 15,"));
        auto* p14 = find_entry(*c, "progress", "session 14");
        REQUIRE(p14);
        CHECK_FALSE(p14->included);
        std::smatch m;
        REQUIRE(std::regex_match(p14->reason, m,
                                 std::regex("budget: needs (\\d+) tokens, (\\d+) left")));
        CHECK(std::stoul(m[1]) == p14->tokens);
        CHECK(std::stoul(m[1]) > std::stoul(m[2]));
        CHECK_FALSE(contains(c->user, "### Session 14,"));
        AND_THEN("older entries are out too, so the log has no gaps") {
          auto* p13 = find_entry(*c, "progress", "session 13");
          REQUIRE(p13);
          CHECK_FALSE(p13->included);
          CHECK(contains(p13->reason, "newer session 14 did not fit"));
        }
        AND_THEN("every memory and result the manifest left out is absent from the prompt") {
          for (const auto& e : c->manifest)
            if (e.name == "memory" && e.detail.rfind("mem-", 0) == 0)
              CHECK(contains(c->user, "[" + e.detail + "]") == e.included);
        }
      }
    }
  }
}

SCENARIO("the next failing items are listed by priority, then ledger order, without gaps") {
  GIVEN("items of mixed priorities in a shuffled container") {
    auto s = sample_state(12);
    std::shuffle(s.items.begin(), s.items.end(), std::mt19937(4));
    auto c = assemble_context(s.inputs());
    REQUIRE(c);
    THEN("priority 0 first, ties in ledger order, the current item not repeated") {
      // Failing (i % 3 != 1), not item-000: 3 (p3), 5 (p1), 6 (p2), 8 (p0), 9 (p1), 11 (p3)
      std::vector<std::string> expected = {"item-008", "item-005", "item-009",
                                           "item-006", "item-003", "item-011"};
      std::size_t at = 0;
      for (const auto& id : expected) {
        auto pos = c->user.find("- " + id + " (");
        REQUIRE(pos != std::string::npos);
        CHECK(pos > at);
        at = pos;
      }
      CHECK_FALSE(contains(c->user, "- item-000 ("));
    }
  }
  GIVEN("500 failing items, shuffled, and a limit of 5") {
    state_fixture s;
    for (std::size_t i = 0; i < 500; ++i)
      s.items.push_back(make_item(i, static_cast<std::int32_t>((i * 7) % 50)));
    std::shuffle(s.items.begin(), s.items.end(), std::mt19937(9));
    auto in = s.inputs();
    in.limits.next_items = 5;
    auto c = assemble_context(in);
    REQUIRE(c);
    THEN("exactly the 5 first by (priority, order) are listed, the rest counted") {
      // Priority 0: i * 7 % 50 == 0, so i = 0, 50, 100, ...; item-000 is current.
      std::vector<std::string> listed;
      for (const auto& e : c->manifest)
        if (e.name == "next_failing" && e.included)
          listed.push_back(e.detail);
      CHECK(listed == std::vector<std::string>{"item-050", "item-100", "item-150", "item-200",
                                               "item-250"});
      REQUIRE(find_entry(*c, "next_failing", "494 more failing items"));
    }
  }
  GIVEN("a next item too long to fit before shorter ones") {
    auto s = sample_state(12);
    s.items[8].description = std::string(10000, 'L');  // item-008 comes first
    s.budget = 2000;
    auto c = assemble_context(s.inputs());
    REQUIRE(c);
    THEN("it and every item after it are left out, the later ones for the gap") {
      CHECK_FALSE(find_entry(*c, "next_failing", "item-008")->included);
      auto* after = find_entry(*c, "next_failing", "item-005");
      CHECK_FALSE(after->included);
      CHECK(contains(after->reason, "'item-008' before it did not fit"));
      CHECK_FALSE(contains(c->user, "- item-005 ("));
    }
  }
}

SCENARIO("the same state gives the same prompt and hash, and any change a different one") {
  GIVEN("a state") {
    auto s = sample_state();
    // Equal scores: their order must come from the key, not the container.
    for (std::size_t m = 3; m < 12; ++m)
      s.memories[m].score = 0.985;  // ranked second to tenth: all listed
    auto a = assemble_context(s.inputs());
    REQUIRE(a);
    CHECK(a->prompt_hash.size() == 32);
    CHECK(a->prompt_hash.find_first_not_of("0123456789abcdef") == std::string::npos);
    WHEN("it is assembled again") {
      auto b = assemble_context(s.inputs());
      REQUIRE(b);
      THEN("the bytes, the hash and the manifest are the same") {
        CHECK(b->system == a->system);
        CHECK(b->user == a->user);
        CHECK(b->prompt_hash == a->prompt_hash);
        REQUIRE(b->manifest.size() == a->manifest.size());
        for (std::size_t i = 0; i < a->manifest.size(); ++i) {
          CHECK(b->manifest[i].detail == a->manifest[i].detail);
          CHECK(b->manifest[i].reason == a->manifest[i].reason);
        }
      }
    }
    WHEN("the ledger and the memories arrive in another order") {
      for (unsigned seed = 1; seed <= 5; ++seed) {
        auto t = s;
        std::shuffle(t.items.begin(), t.items.end(), std::mt19937(seed));
        std::shuffle(t.memories.begin(), t.memories.end(), std::mt19937(seed + 100));
        auto b = assemble_context(t.inputs());
        REQUIRE(b);
        CHECK(b->user == a->user);
        CHECK(b->prompt_hash == a->prompt_hash);
      }
    }
    WHEN("one character changes anywhere in what the prompt shows") {
      auto changed = [&](auto edit) {
        auto t = s;
        edit(t);
        auto b = assemble_context(t.inputs());
        REQUIRE(b);
        return b->prompt_hash != a->prompt_hash;
      };
      THEN("the hash changes") {
        CHECK(changed([](state_fixture& t) { t.instructions.back() = '!'; }));
        CHECK(changed([](state_fixture& t) { t.goal[0] = 'w'; }));
        CHECK(changed([](state_fixture& t) { t.items[0].acceptance[1].back() = 'C'; }));
        CHECK(changed([](state_fixture& t) { t.items[2].description.back() = 'e'; }));
        CHECK(changed([](state_fixture& t) { t.progress.back().next.back() = '?'; }));
        CHECK(changed([](state_fixture& t) { t.memories[0].text.back() = '?'; }));
        CHECK(changed([](state_fixture& t) { t.recent.back().back() = '?'; }));
      }
      THEN("a change to an item past the limit, which the prompt does not show, does not") {
        REQUIRE_FALSE(contains(a->user, "- item-047 ("));
        CHECK_FALSE(changed([](state_fixture& t) { t.items[47].description += "!"; }));
      }
      THEN("the task id is part of the prompt too") {
        auto t = s.inputs();
        t.task = "docs2";
        auto b = assemble_context(t);
        REQUIRE(b);
        CHECK(b->prompt_hash != a->prompt_hash);
      }
    }
  }
}

SCENARIO("empty sections are fine and say so") {
  GIVEN("a ledger of only the current item, and nothing else") {
    state_fixture s;
    s.items.push_back(make_item(0, 0));
    auto c = assemble_context(s.inputs());
    REQUIRE(c);
    THEN("the prompt holds the task and the item, the manifest the empty sections") {
      CHECK(contains(c->user, "# Task: docs\n"));
      CHECK(contains(c->user, "Last evidence: none (never verified)"));
      CHECK(contains(c->user, "## Ledger: 1 items, 0 passing, 1 failing\n"));
      CHECK(find_entry(*c, "next_failing", "")->reason == "empty: no other failing items");
      CHECK(find_entry(*c, "progress", "")->reason == "empty: no progress entries given");
      CHECK(find_entry(*c, "memory", "")->reason == "empty: no memory hits given");
      CHECK(find_entry(*c, "recent", "")->reason == "empty: no recent results given");
      CHECK_FALSE(contains(c->user, "## Progress"));
      CHECK_FALSE(contains(c->user, "## Memories"));
    }
  }
}

SCENARIO("memory hits go in best first, a NaN score never") {
  GIVEN("hits of equal score") {
    state_fixture s;
    s.items.push_back(make_item(0, 0));
    s.memories = {{"b", "fact b", 0.5}, {"c", "fact c", 0.5}, {"a", "fact a", 0.5}};
    auto c = assemble_context(s.inputs());
    REQUIRE(c);
    THEN("they are ranked by key") {
      CHECK(contains(c->user, "- [a] (score 0.500): fact a\n- [b] (score 0.500): fact b\n"
                              "- [c] (score 0.500): fact c\n"));
    }
  }
  GIVEN("hits in reverse order and one with a NaN score") {
    state_fixture s;
    s.items.push_back(make_item(0, 0));
    s.memories = {{"low", "low fact", 0.1},
                  {"bad", "bad fact", std::numeric_limits<double>::quiet_NaN()},
                  {"high", "high fact", 0.9}};
    auto c = assemble_context(s.inputs());
    REQUIRE(c);
    THEN("the best is first and the NaN one is left out as invalid") {
      auto high = c->user.find("- [high] (score 0.900): high fact\n");
      auto low = c->user.find("- [low] (score 0.100): low fact\n");
      REQUIRE(high != std::string::npos);
      REQUIRE(low != std::string::npos);
      CHECK(high < low);
      CHECK_FALSE(contains(c->user, "bad fact"));
      auto* bad = find_entry(*c, "memory", "1 hits");
      REQUIRE(bad);
      CHECK(bad->reason == "invalid: score is not a number");
    }
  }
}

SCENARIO("recent results go in newest first") {
  GIVEN("three results, newest last") {
    state_fixture s;
    s.items.push_back(make_item(0, 0));
    s.recent = {"oldest result", "middle result", "newest result"};
    auto c = assemble_context(s.inputs());
    REQUIRE(c);
    THEN("the newest is result 1") {
      CHECK(contains(c->user, "### Result 1\nnewest result\n"));
      CHECK(c->user.find("newest result") < c->user.find("oldest result"));
    }
  }
}

SCENARIO("token estimates match the sim model's") {
  THEN("a text costs ceil(chars / 4), a message 4 more") {
    CHECK(estimate_tokens("") == 0);
    CHECK(estimate_tokens("abcd") == 1);
    CHECK(estimate_tokens("abcde") == 2);
    std::vector<std::string> convo = {"abcd", "abcdefgh", ""};
    CHECK(estimate_conversation_tokens(convo) == 3 * 4 + 1 + 2 + 0);
    CHECK(fits_budget(convo, 15));
    CHECK_FALSE(fits_budget(convo, 14));
  }
}
