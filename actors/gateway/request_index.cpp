// The request index's keys and their upkeep (request_index.hpp).
#include "endure/actors/gateway/request_index.hpp"

#include "endure/actors/gateway/deadline.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::gateway {

namespace {

constexpr std::uint64_t sign_bit = std::uint64_t{1} << 63;

void put_time(std::string& out, std::int64_t ms) {
  auto u = static_cast<std::uint64_t>(ms) ^ sign_bit;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((u >> shift) & 0xff));
}

std::string key(std::string_view prefix, std::int64_t at_ms, std::string_view id) {
  auto k = index_key_at(prefix, at_ms);
  k += id;
  return k;
}

} // namespace

std::string index_key_at(std::string_view prefix, std::int64_t at_ms) {
  std::string k{prefix};
  put_time(k, at_ms);
  return k;
}

index_keys keys_of(const human_request& r) {
  index_keys k;
  if (r.status == request_status::pending) {
    k.pending = key(pending_prefix, r.created_ms, r.id);
    if (auto next = next_reminder_ms(r))
      k.due = key(due_prefix, *next, r.id);
  } else if (r.status == request_status::decided && r.outcome && !r.delivered) {
    k.due = key(due_prefix, 0, r.id);
  }
  return k;
}

side_table index_table(char kind) noexcept {
  return kind == pending_prefix[0] ? side_table::pending_requests : side_table::request_index;
}

expected<bool> index_complete(const journal& store) {
  auto mark = store.row(side_table::request_index, indexed_key);
  if (!mark)
    return std::move(mark).error();
  if (!*mark)
    return false;
  auto first_form = store.row(side_table::request_index, first_form_indexed_key);
  if (!first_form)
    return std::move(first_form).error();
  if (*first_form)
    return false;
  // A pending entry in request_index: a build before the pending table
  // raised or indexed a request since this build's mark (one that was
  // stopped before its start wrote "indexed"). This build writes none there.
  auto first_form_entry = store.rows(side_table::request_index, pending_prefix, "", 1);
  if (!first_form_entry)
    return std::move(first_form_entry).error();
  return first_form_entry->rows.empty() && first_form_entry->damaged.empty();
}

void update_index(write_batch& b, const index_keys& before, const human_request& after) {
  auto now = keys_of(after);
  auto change = [&](side_table table, const std::string& old_key, const std::string& new_key) {
    if (old_key == new_key)
      return;
    if (!old_key.empty())
      b.erase_row(table, old_key);
    if (!new_key.empty())
      b.put_row(table, new_key, index_record());
  };
  change(index_table(pending_prefix[0]), before.pending, now.pending);
  change(index_table(due_prefix[0]), before.due, now.due);
  // A row that is not pending has no pending entry, whatever `before` says:
  // one a build before the pending table left (it erased its entries in
  // request_index only) goes with the row's next write.
  if (now.pending.empty() && before.pending.empty())
    b.erase_row(index_table(pending_prefix[0]), key(pending_prefix, after.created_ms, after.id));
}

std::optional<index_entry> parse_index_key(std::string_view key) {
  if (key.size() < 10 || (key[0] != pending_prefix[0] && key[0] != due_prefix[0]))
    return std::nullopt;
  std::uint64_t u = 0;
  for (std::size_t i = 1; i < 9; ++i)
    u = (u << 8) | static_cast<unsigned char>(key[i]);
  return index_entry{key[0], static_cast<std::int64_t>(u ^ sign_bit),
                     std::string{key.substr(9)}};
}

record index_record() { return record{request_index_tag, 1, {}}; }

} // namespace endure::gateway
