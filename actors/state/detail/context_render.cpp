// Text forms of the context assembler's entries (context_render.hpp).
#include "endure/actors/state/detail/context_render.hpp"

#include <charconv>

#include "endure/actors/state/context_assembler.hpp"

namespace endure::state::detail {

namespace {

std::string num(std::int64_t v) { return std::to_string(v); }

void line(std::string& out, std::string_view label, std::string_view text) {
  if (text.empty())
    return;
  out.append(label).append(text).push_back('\n');
}

void render_verification(std::string& out, const verification& v) {
  if (!v.tool.empty()) {
    out += "Verification: tool " + v.tool + " with " + v.tool_args +
           " must return a result holding " + v.expect_result;
  } else {
    out += "Verification: command `" + v.command + "` must exit " + num(v.expect_exit);
    if (!v.expect_output.empty())
      out += " and print \"" + v.expect_output + "\"";
  }
  out += " (timeout " + num(v.timeout.count()) + " ms)\n";
}

void render_evidence(std::string& out, const std::optional<evidence>& last) {
  if (!last) {
    out += "Last evidence: none (never verified)\n";
    return;
  }
  const evidence& e = *last;
  out += std::string("Last evidence: ") + (e.passed ? "passed" : "failed") + ", session " +
         num(e.session) + ", run " + (e.run_id.empty() ? "-" : e.run_id) + ", at " +
         num(e.at_ms) + " (" + num(e.duration_ms) + " ms): ran `" + e.ran + "`";
  if (e.exit_status)
    out += ", exit status " + num(*e.exit_status);
  if (e.timed_out)
    out += ", timed out";
  out += '\n';
  line(out, "Reason: ", e.reason);
  line(out, "Result hash: ", e.result_hash);
  if (!e.output_tail.empty()) {
    out += "Output tail:\n```\n" + e.output_tail;
    if (e.output_tail.back() != '\n')
      out += '\n';
    out += "```\n";
  }
}

} // namespace

std::string fixed3(double v) {
  if (v == 0.0)
    v = 0.0;  // -0.0 and 0.0 compare equal: render them the same too
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
  if (r.ec != std::errc{})  // only a magnitude beyond 60 digits: use the shortest form
    r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string render_task(std::string_view task, std::string_view goal) {
  std::string out = "# Task: ";
  out.append(task).push_back('\n');
  line(out, "Goal: ", goal);
  return out;
}

std::string render_current_item(const ledger_item& item) {
  std::string out = "\n## Current item: " + item.id + "\n";
  out += std::string("Status: ") + (item.status == item_status::passing ? "passing" : "failing") +
         " (priority " + num(item.priority) + ", revision " + num(item.revision) + ", " +
         num(item.verifications) + " verifications run)\n";
  line(out, "Passing by override of: ", item.overridden_by);
  line(out, "Description: ", item.description);
  if (!item.acceptance.empty()) {
    out += "Acceptance criteria:\n";
    for (const auto& a : item.acceptance)
      out += "- " + a + "\n";
  }
  render_verification(out, item.verify);
  render_evidence(out, item.last);
  return out;
}

std::string render_counts(std::size_t items, std::size_t passing, std::size_t failing) {
  return "\n## Ledger: " + std::to_string(items) + " items, " + std::to_string(passing) +
         " passing, " + std::to_string(failing) + " failing\n";
}

std::string_view next_items_heading() { return "Next failing items, by priority:\n"; }

std::string render_next_item(const ledger_item& item) {
  return "- " + item.id + " (priority " + num(item.priority) + "): " + item.description + "\n";
}

std::string_view progress_heading() { return "\n## Progress, newest first\n"; }

std::string render_progress(const progress_entry& p) {
  std::string out = "### Session " + num(p.session);
  if (!p.model.empty())
    out += ", model " + p.model;
  if (!p.ended.empty())
    out += ", ended: " + p.ended;
  out += ", at " + num(p.at_ms) + "\n";
  if (!p.items.empty()) {
    out += "Items:";
    for (std::size_t i = 0; i < p.items.size(); ++i)
      out += (i == 0 ? " " : ", ") + p.items[i];
    out += '\n';
  }
  line(out, "Tried: ", p.tried);
  line(out, "Changed: ", p.changed);
  line(out, "Next: ", p.next);
  return out;
}

std::string_view memories_heading() { return "\n## Memories, best first\n"; }

std::string render_memory(const memory_hit& m) {
  return "- [" + m.key + "] (score " + fixed3(m.score) + "): " + m.text + "\n";
}

std::string_view recent_heading() { return "\n## Recent results, newest first\n"; }

std::string render_recent(std::size_t n, std::string_view text) {
  std::string out = "### Result " + std::to_string(n) + "\n";
  out.append(text);
  if (text.empty() || text.back() != '\n')
    out += '\n';
  return out;
}

} // namespace endure::state::detail
