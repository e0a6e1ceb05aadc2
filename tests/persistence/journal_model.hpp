// A model of what a journal holds (run -> seqs, records as test_record
// writes them) and the check that a journal reads back exactly that.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "persistence/test_records.hpp"

namespace endure::test {

using model = std::map<std::string, std::vector<std::uint64_t>>;  // run -> seqs

/// Every read window of every run (each from_seq, max_count 1, 3, all) and
/// every run's last seq match the model.
inline void check_reads(const journal& j, const model& m) {
  for (auto& [run, seqs] : m) {
    REQUIRE(*j.last_seq(run) == (seqs.empty() ? 0 : seqs.back()));
    std::uint64_t top = seqs.empty() ? 3 : seqs.back() + 2;
    for (std::uint64_t from = 0; from <= top; ++from) {
      for (std::size_t max : {std::size_t{1}, std::size_t{3}, SIZE_MAX}) {
        std::vector<std::uint64_t> want;
        for (auto s : seqs)
          if (s >= from && want.size() < max)
            want.push_back(s);
        auto got = j.read(run, from, max);
        REQUIRE(got);
        REQUIRE(got->size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
          REQUIRE((*got)[i].seq == want[i]);
          REQUIRE((*got)[i].rec == test_record(run, want[i]));
        }
      }
    }
  }
}

/// Appends test_record(run, seq) for each pair in one batch; once
/// committed, adds them to the model too. Returns the commit's result.
inline expected<void> append_all(
  journal& j, model& m, std::initializer_list<std::pair<std::string, std::uint64_t>> recs) {
  write_batch b;
  for (auto& [run, seq] : recs)
    b.append(run, seq, test_record(run, seq));
  auto r = j.commit(std::move(b));
  if (r)
    for (auto& [run, seq] : recs)
      m[run].push_back(seq);
  return r;
}

/// `v` as 8 bytes big-endian, as keys and heads store numbers.
inline std::string be64(std::uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

} // namespace endure::test
