// The context assembler (context_assembler.hpp): required part first, then
// the sections in priority order, each entry taken whole or left out with
// its reason. One pass over the ledger (a bounded heap picks the next
// failing items: O(n log k)), one output string grown by appending.
#include "endure/actors/state/context_assembler.hpp"

#include "endure/net/token_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "endure/actors/state/detail/context_render.hpp"

namespace endure::state {

std::size_t estimate_tokens(std::string_view text) noexcept {
  return static_cast<std::size_t>(net::estimate_tokens(text));
}

std::size_t estimate_conversation_tokens(std::span<const std::string> messages) noexcept {
  std::size_t n = 0;
  for (const auto& m : messages)
    n += message_overhead_tokens + estimate_tokens(m);
  return n;
}

bool fits_budget(std::span<const std::string> messages, std::size_t budget_tokens) noexcept {
  return estimate_conversation_tokens(messages) <= budget_tokens;
}

namespace {

std::size_t tokens_of_chars(std::size_t chars) { return (chars + 3) / 4; }

std::string budget_reason(std::size_t needs, std::size_t left) {
  return "budget: needs " + std::to_string(needs) + " tokens, " + std::to_string(left) + " left";
}

/// The user message under construction and the manifest beside it. The
/// budget is checked on the whole message's length, not on a sum of
/// per-entry estimates, so rounding can never push the total over.
class context_writer {
public:
  context_writer(std::size_t budget, std::size_t fixed, std::vector<context_section>& manifest)
    : budget_(budget), fixed_(fixed), manifest_(manifest) {}

  std::size_t used() const { return fixed_ + tokens_of_chars(user_.size()); }
  std::size_t left() const { return budget_ > used() ? budget_ - used() : 0; }

  /// Appends `heading` + `piece` if both fit; records the outcome.
  bool offer(const char* name, std::string detail, std::string_view heading,
             std::string_view piece) {
    auto chars = heading.size() + piece.size();
    auto needs = tokens_of_chars(chars);
    if (fixed_ + tokens_of_chars(user_.size() + chars) > budget_) {
      leave_out(name, std::move(detail), needs, budget_reason(needs, left()));
      return false;
    }
    user_.append(heading).append(piece);
    manifest_.push_back({name, std::move(detail), needs, true, "fits"});
    return true;
  }

  /// Appends without a check (the required part, checked as a whole).
  void require(const char* name, std::string detail, std::string_view piece) {
    user_.append(piece);
    manifest_.push_back({name, std::move(detail), estimate_tokens(piece), true, "required"});
  }

  void leave_out(const char* name, std::string detail, std::size_t tokens, std::string reason) {
    manifest_.push_back({name, std::move(detail), tokens, false, std::move(reason)});
  }

  std::string take() { return std::move(user_); }

private:
  std::size_t budget_;
  std::size_t fixed_;
  std::vector<context_section>& manifest_;
  std::string user_;
};

/// The ledger's listing order (listing_key), independent of the
/// container's order (ids are unique).
bool works_before(const ledger_item* a, const ledger_item* b) {
  return listing_key(*a) < listing_key(*b);
}

/// Items in the whole ledger: the counts' when `items` is part of it.
std::size_t ledger_total(const context_inputs& in) {
  return in.counts ? in.counts->items : in.items.size();
}

/// One pass over the ledger: counts, the current item, the next failing.
struct ledger_scan {
  std::size_t passing = 0;
  std::size_t failing_others = 0;  ///< failing items other than the current one
  const ledger_item* current = nullptr;
  std::size_t current_matches = 0;
  std::vector<const ledger_item*> next;  ///< at most k, in working order
};

ledger_scan scan_ledger(std::span<const ledger_item> items, std::string_view current,
                        std::size_t k) {
  ledger_scan s;
  // A max-heap of the k best so far: its top is the one to replace.
  std::priority_queue<const ledger_item*, std::vector<const ledger_item*>,
                      decltype(&works_before)>
    best(&works_before);
  for (const auto& item : items) {
    bool is_current = item.id == current;  // once: the compare is a fifth of a call
    if (is_current) {
      s.current = s.current ? s.current : &item;
      ++s.current_matches;
    }
    if (item.status == item_status::passing) {
      ++s.passing;
      continue;
    }
    if (is_current)
      continue;
    ++s.failing_others;
    if (k == 0)
      continue;
    if (best.size() < k) {
      best.push(&item);
    } else if (works_before(&item, best.top())) {
      best.pop();
      best.push(&item);
    }
  }
  s.next.resize(best.size());
  for (auto i = s.next.size(); i-- > 0; best.pop())
    s.next[i] = best.top();
  return s;
}

expected<const ledger_item*> find_current(const context_inputs& in, const ledger_scan& s) {
  if (s.current_matches == 0)
    return make_error(errc::not_found,
                      "context for task '" + in.task + "': current item '" + in.current_item +
                        "' is not in the ledger (" + std::to_string(ledger_total(in)) +
                        " items): pass the id of an item of this task's ledger");
  if (s.current_matches > 1)
    return make_error(errc::invalid_argument,
                      "context for task '" + in.task + "': item id '" + in.current_item +
                        "' occurs " + std::to_string(s.current_matches) +
                        " times in the ledger: ledger ids must be unique");
  return s.current;
}

void add_ledger(context_writer& w, const context_inputs& in, const ledger_scan& s) {
  auto total = ledger_total(in);
  auto failing = total - s.passing;
  auto counts = detail::render_counts(total, s.passing, failing);
  auto summary = std::to_string(total) + " items, " + std::to_string(s.passing) +
                 " passing, " + std::to_string(failing) + " failing";
  if (!w.offer("ledger_summary", summary, {}, counts))
    return;  // without its counts a list of items would read as the whole ledger
  if (s.failing_others == 0)
    return w.leave_out("next_failing", "", 0, "empty: no other failing items");
  const ledger_item* stopped = nullptr;
  for (const auto* item : s.next) {
    auto text = detail::render_next_item(*item);
    if (stopped) {
      w.leave_out("next_failing", item->id, estimate_tokens(text),
                  "budget: listed without gaps, and '" + stopped->id + "' before it did not fit");
      continue;
    }
    bool first = item == s.next.front();
    if (!w.offer("next_failing", item->id, first ? detail::next_items_heading() : "", text))
      stopped = item;
  }
  if (s.failing_others > s.next.size())
    w.leave_out("next_failing", std::to_string(s.failing_others - s.next.size()) +
                  " more failing items", 0,
                "limit: only the " + std::to_string(in.limits.next_items) +
                  " next failing items are listed");
}

void add_progress(context_writer& w, const context_inputs& in) {
  if (in.progress.empty())
    return w.leave_out("progress", "", 0, "empty: no progress entries given");
  auto n = std::min(in.progress.size(), in.limits.progress);
  bool any = false;
  const progress_entry* stopped = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = in.progress[in.progress.size() - 1 - i];
    auto text = detail::render_progress(p);
    auto name = "session " + std::to_string(p.session);
    if (stopped) {
      w.leave_out("progress", name, estimate_tokens(text),
                  "budget: listed without gaps, and the newer session " +
                    std::to_string(stopped->session) + " did not fit");
      continue;
    }
    if (w.offer("progress", name, any ? "" : detail::progress_heading(), text))
      any = true;
    else
      stopped = &p;
  }
  if (in.progress.size() > n)
    w.leave_out("progress", std::to_string(in.progress.size() - n) + " older entries", 0,
                "limit: only the " + std::to_string(in.limits.progress) +
                  " newest progress entries are listed");
}

/// Best first; ties by key, then text, so the container's order is moot.
bool ranks_before(const memory_hit* a, const memory_hit* b) {
  if (a->score != b->score)
    return a->score > b->score;
  if (a->key != b->key)
    return a->key < b->key;
  return a->text < b->text;
}

void add_memories(context_writer& w, const context_inputs& in) {
  if (in.memories.empty())
    return w.leave_out("memory", "", 0, "empty: no memory hits given");
  std::vector<const memory_hit*> valid;
  valid.reserve(in.memories.size());
  for (const auto& m : in.memories)
    if (!std::isnan(m.score))
      valid.push_back(&m);
  auto k = std::min(valid.size(), in.limits.memories);
  std::partial_sort(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(k), valid.end(),
                    &ranks_before);
  bool any = false;
  for (std::size_t i = 0; i < k; ++i) {
    auto text = detail::render_memory(*valid[i]);
    if (w.offer("memory", valid[i]->key, any ? "" : detail::memories_heading(), text))
      any = true;
  }
  if (valid.size() > k)
    w.leave_out("memory", std::to_string(valid.size() - k) + " more hits", 0,
                "limit: only the " + std::to_string(in.limits.memories) +
                  " best memory hits are considered");
  if (auto nan = in.memories.size() - valid.size(); nan > 0)
    w.leave_out("memory", std::to_string(nan) + " hits", 0, "invalid: score is not a number");
}

void add_recent(context_writer& w, const context_inputs& in) {
  if (in.recent.empty())
    return w.leave_out("recent", "", 0, "empty: no recent results given");
  auto n = std::min(in.recent.size(), in.limits.recent);
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    auto text = detail::render_recent(i + 1, in.recent[in.recent.size() - 1 - i]);
    auto name = "result " + std::to_string(i + 1) + " of " + std::to_string(in.recent.size()) +
                " (newest first)";
    if (w.offer("recent", std::move(name), any ? "" : detail::recent_heading(), text))
      any = true;
  }
  if (in.recent.size() > n)
    w.leave_out("recent", std::to_string(in.recent.size() - n) + " older results", 0,
                "limit: only the " + std::to_string(in.limits.recent) +
                  " newest results are listed");
}

std::string hash_hex(std::string_view system, std::string_view user) {
  XXH3_state_t st;
  XXH3_INITSTATE(&st);
  XXH3_128bits_reset(&st);
  XXH3_128bits_update(&st, system.data(), system.size());
  XXH3_128bits_update(&st, "", 1);  // the NUL: where system ends is part of the prompt
  XXH3_128bits_update(&st, user.data(), user.size());
  XXH128_hash_t h = XXH3_128bits_digest(&st);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = digits[(h.high64 >> (4 * i)) & 0xf];
    out[31 - i] = digits[(h.low64 >> (4 * i)) & 0xf];
  }
  return out;
}

error too_large(const context_inputs& in, std::size_t instructions, std::size_t item,
                std::size_t total) {
  return make_error(
    errc::invalid_argument,
    "context for task '" + in.task + "': the instructions (" + std::to_string(instructions) +
      " tokens) and the task with its current item '" + in.current_item + "' (" +
      std::to_string(item) + " tokens) need " + std::to_string(total) +
      " tokens with the message overhead, " + std::to_string(total - in.budget_tokens) +
      " more than the budget of " + std::to_string(in.budget_tokens) +
      ": raise budget_tokens (within the model's context window), shorten the "
      "instructions or the goal, or split item '" + in.current_item +
      "' into smaller items (an item's criteria and evidence are never cut)");
}

} // namespace

expected<assembled_context> assemble_context(const context_inputs& in) {
  if (in.current_item.empty())
    return make_error(errc::invalid_argument,
                      "context for task '" + in.task +
                        "': no current item: pass the id of the ledger item being worked on");
  auto scan = scan_ledger(in.items, in.current_item, in.limits.next_items);
  auto current = find_current(in, scan);
  if (!current)
    return std::move(current).error();
  if (in.counts) {  // `items` is part of the ledger: the counts are the whole one's
    std::size_t current_fails = (*current)->status == item_status::failing ? 1 : 0;
    if (in.counts->passing > in.counts->items || in.counts->items < in.items.size()
        || in.counts->passing < scan.passing
        || in.counts->items - in.counts->passing < scan.failing_others + current_fails)
      return make_error(errc::invalid_argument,
                        "context for task '" + in.task + "': the ledger counts (" +
                          std::to_string(in.counts->items) + " items, " +
                          std::to_string(in.counts->passing) +
                          " passing) do not cover the items given: pass a ledger_view's");
    // The part must hold every failing item the context lists: fewer than
    // the limit (while the ledger has more) means some that come first in
    // listing order may be missing, and the list would be silently wrong.
    auto others = in.counts->items - in.counts->passing - current_fails;
    if (scan.failing_others < std::min(in.limits.next_items, others))
      return make_error(errc::invalid_argument,
                        "context for task '" + in.task + "': the items given hold " +
                          std::to_string(scan.failing_others) + " next failing items of " +
                          std::to_string(others) + ", the context lists " +
                          std::to_string(in.limits.next_items) +
                          ": pass a ledger_view read with next_items at least limits.next_items");
    scan.passing = in.counts->passing;
    scan.failing_others = others;
  }

  assembled_context out;
  out.system = in.instructions;
  auto task = detail::render_task(in.task, in.goal);
  auto item = detail::render_current_item(**current);
  auto fixed = 2 * message_overhead_tokens + estimate_tokens(out.system);
  auto required = fixed + tokens_of_chars(task.size() + item.size());
  if (required > in.budget_tokens)
    return too_large(in, estimate_tokens(out.system), tokens_of_chars(task.size() + item.size()),
                     required);

  context_writer w(in.budget_tokens, fixed, out.manifest);
  out.manifest.push_back(
    {"instructions", "", estimate_tokens(out.system), true, "required"});
  w.require("task", in.task, task);
  w.require("current_item", in.current_item, item);
  add_ledger(w, in, scan);
  add_progress(w, in);
  add_memories(w, in);
  add_recent(w, in);
  out.tokens = w.used();
  out.user = w.take();
  out.prompt_hash = hash_hex(out.system, out.user);
  return out;
}

} // namespace endure::state
