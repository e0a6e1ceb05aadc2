// Checks the request index against the rows it describes (actors/gateway/
// request_index.hpp): every entry a row should have is there, and no entry
// is there that no row wants. Reads the whole table; for tests.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::test {

/// "p 1796...: r1/0" for an index key; the key itself if it does not parse.
inline std::string describe_index_key(const std::string& key) {
  auto e = gateway::parse_index_key(key);
  return e ? std::string(1, e->kind) + " " + std::to_string(e->at_ms) + ": " + e->id : key;
}

/// Every key of `table` (all pages).
inline std::set<std::string> table_keys(const journal& store, side_table table) {
  std::set<std::string> out;
  std::string after;
  for (;;) {
    auto page = store.rows(table, "", after, 1000);
    if (!page || (page->rows.empty() && page->damaged.empty()))
      return out;
    for (auto& row : page->rows)
      out.insert(row.key);
    for (auto& [key, why] : page->damaged)
      out.insert(key);
    after = std::max(page->rows.empty() ? std::string{} : page->rows.back().key,
                     page->damaged.empty() ? std::string{} : page->damaged.back().first);
  }
}

/// What is wrong with `store`'s request index; empty when it matches the
/// rows exactly, each entry in its table (request_index.hpp), the mark of a
/// complete index required when `marker`.
inline std::vector<std::string> index_problems(const journal& store, bool marker = true) {
  using entry = std::pair<side_table, std::string>;
  std::set<entry> wanted;
  if (marker)
    wanted.insert({side_table::request_index, std::string{gateway::indexed_key}});
  for (auto& key : table_keys(store, side_table::requests)) {
    auto row = store.row(side_table::requests, key);
    if (!row || !*row)
      continue;
    auto r = gateway::from_record(**row, key);
    if (!r)
      continue;
    auto k = gateway::keys_of(*r);
    for (auto* e : {&k.pending, &k.due})
      if (!e->empty())
        wanted.insert({gateway::index_table((*e)[0]), *e});
  }
  std::set<entry> present;
  for (auto table : {side_table::request_index, side_table::pending_requests})
    for (auto& key : table_keys(store, table))
      present.insert({table, key});
  auto describe = [](const entry& e) {
    return describe_index_key(e.second) + " in " + table_name(e.first);
  };
  std::vector<std::string> out;
  for (auto& e : wanted)
    if (!present.count(e))
      out.push_back("missing " + describe(e));
  for (auto& e : present)
    if (!wanted.count(e))
      out.push_back("stale " + describe(e));
  return out;
}

} // namespace endure::test
