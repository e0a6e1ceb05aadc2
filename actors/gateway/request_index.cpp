// The request index's keys and their upkeep (request_index.hpp).
#include "endure/actors/gateway/request_index.hpp"

#include "endure/actors/gateway/deadline.hpp"

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

void update_index(write_batch& b, const index_keys& before, const human_request& after) {
  auto now = keys_of(after);
  auto change = [&](const std::string& old_key, const std::string& new_key) {
    if (old_key == new_key)
      return;
    if (!old_key.empty())
      b.erase_row(side_table::request_index, old_key);
    if (!new_key.empty())
      b.put_row(side_table::request_index, new_key, index_record());
  };
  change(before.pending, now.pending);
  change(before.due, now.due);
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
