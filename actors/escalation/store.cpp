// The escalation matrix's rows in the journal (store.hpp).
#include "endure/actors/escalation/store.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "endure/actors/escalation/cosine_graph.hpp"
#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/persistence/row_scan.hpp"

namespace endure::escalation {

namespace {

using json = nlohmann::json;

constexpr std::string_view checkpoint_key = "checkpoint";
constexpr std::size_t page_size = 4096;

std::string big_endian(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::uint64_t from_big_endian(std::string_view key) {
  std::uint64_t v = 0;
  for (unsigned char c : key.substr(0, 8))
    v = (v << 8) | c;
  return v;
}

/// Keys are whatever the caller uses (a step's idempotency key, of any
/// length): rows are keyed by its 128-bit hash, the key itself is inside.
std::string hashed(std::string_view prefix, std::string_view key) {
  auto h = XXH3_128bits(key.data(), key.size());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string{prefix} + buf;
}

/// The row is there but cannot be read (damaged, or written by a newer
/// build): unlike LMDB failing, asking again gives the same answer.
bool unreadable(const error& e) {
  return e.code == errc::corrupt_record || e.code == errc::newer_record_version ||
         e.code == errc::unknown_record_type;
}

record text_record(std::uint16_t tag, std::string text) { return record{tag, 1, std::move(text)}; }

record input_record(std::string_view type, std::span<const float> unit, const features& f) {
  std::vector<std::uint8_t> bytes(unit.size() * sizeof(float));
  std::memcpy(bytes.data(), unit.data(), bytes.size());
  json j = {{"t", type},
            {"f", {f.uncertainty, f.novelty, f.benefit}},
            {"v", json::binary(std::move(bytes))}};
  auto packed = json::to_msgpack(j);
  return record{input_row_tag, 1, std::string{packed.begin(), packed.end()}};
}

struct stored_input {
  std::string type;
  std::vector<float> unit;
  features f;
};

expected<stored_input> parse_input(const record& r, std::string_view where) {
  try {
    auto j = json::from_msgpack(r.payload);
    stored_input in;
    in.type = j.at("t").get<std::string>();
    auto& f = j.at("f");
    in.f = {f.at(0).get<double>(), f.at(1).get<double>(), f.at(2).get<double>()};
    auto& v = j.at("v").get_binary();
    if (v.size() % sizeof(float) != 0)
      throw std::invalid_argument("vector bytes not a whole number of floats");
    in.unit.resize(v.size() / sizeof(float));
    std::memcpy(in.unit.data(), v.data(), v.size());
    return in;
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record, std::string{where} + ": " + e.what());
  }
}

/// Calls `each(row)` for every row of `table` with keys after `after`, in
/// key order, page by page; damaged rows are logged and counted.
template <class Each>
expected<void> scan(const journal& store, side_table table, std::string_view prefix,
                    std::string after, std::uint64_t& damaged, Each each) {
  return scan_rows(store, table, prefix, std::move(after), each,
                   [&](const std::string&, const error& why) {
    ++damaged;
    log::error(std::string{"escalation store: skipped a damaged row of "} + table_name(table)
               + ": " + why.to_string());
  }, page_size);
}

struct checkpoint_row {
  std::uint64_t through = 0;
  std::vector<saved_graph> graphs;
};

std::string checkpoint_text(const checkpoint_row& c) {
  json graphs = json::array();
  for (auto& g : c.graphs)
    graphs.push_back({{"task_type", g.task_type}, {"file", g.file}, {"vectors", g.vectors},
                      {"hash", g.hash}, {"dim", g.dim}});
  return json{{"through", c.through}, {"graphs", graphs}}.dump();
}

expected<checkpoint_row> parse_checkpoint(std::string_view text) {
  try {
    auto j = json::parse(text);
    checkpoint_row c;
    c.through = j.at("through").get<std::uint64_t>();
    for (auto& g : j.at("graphs"))
      c.graphs.push_back({g.at("task_type").get<std::string>(), g.at("file").get<std::string>(),
                          g.at("vectors").get<std::uint64_t>(), g.at("hash").get<std::uint64_t>(),
                          g.at("dim").get<std::size_t>()});
    return c;
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record,
                      std::string{"escalation_state row checkpoint: "} + e.what());
  }
}

} // namespace

std::string state_row_key(std::string_view kind, std::string_view key) {
  return hashed(kind, key);
}

void register_record_types(record_types& types) {
  types.add(input_row_tag, 1, "escalation_input");
  types.add(outcome_row_tag, 1, "escalation_outcome");
  types.add(decision_row_tag, 1, "escalation_decision");
  types.add(refit_row_tag, 1, "escalation_refit");
  types.add(checkpoint_row_tag, 1, "escalation_checkpoint");
}

matrix_store::matrix_store(journal& store, store_options options)
  : store_(&store), opts_(std::move(options)) {
  dir_ = opts_.graph_dir.empty()
           ? std::filesystem::path{store.options().data_dir} / "escalation"
           : opts_.graph_dir;
}

expected<std::optional<assessment>> matrix_store::decision(std::string_view key) const {
  using answer = std::optional<assessment>;
  auto row = store_->row(side_table::escalation_state, hashed("d/", key));
  // A damaged decision row must not stop its run: it reads as absent, the
  // proposal is assessed again and the new row replaces it.
  auto damaged = [&](const error& why) {
    log::error("escalation store: the decision row of " + std::string{key}
               + " is damaged and is assessed again: " + why.to_string());
    return answer{};
  };
  if (!row)
    return unreadable(row.error()) ? expected<answer>{damaged(row.error())}
                                                    : expected<answer>{row.error()};
  if (!*row)
    return answer{};
  auto a = assessment_from_json((**row).payload);
  if (!a)
    return damaged(a.error());
  return answer{std::move(*a)};
}

write_batch matrix_store::assessment_rows(std::string_view task_type, std::span<const float> unit,
                                          const assessment& a) const {
  write_batch b;
  if (a.input_id != 0)
    b.put_row(side_table::escalation_inputs, big_endian(a.input_id),
              input_record(task_type, unit, a.features));
  if (!a.decision_key.empty())
    b.put_row(side_table::escalation_state, hashed("d/", a.decision_key),
              text_record(decision_row_tag, to_json_text(a)));
  return b;
}

expected<bool> matrix_store::has_outcome(std::string_view key) const {
  auto row = store_->row(side_table::escalation_state, hashed("o/", key));
  // A damaged marker was written: that outcome was recorded.
  if (!row && unreadable(row.error()))
    return true;
  if (!row)
    return std::move(row).error();
  return row->has_value();
}

write_batch matrix_store::outcome_rows(std::string_view key, const outcome& o,
                                       const std::optional<refit_record>& refit) {
  write_batch b;
  // The key as text is for people (bytes that are not UTF-8 replaced):
  // rows are found by its hash.
  auto as_text = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  b.put_row(side_table::escalation_state, hashed("o/", key),
            text_record(outcome_row_tag, as_text(json{{"key", key}})), true);
  auto row = as_text(json{{"key", key}, {"outcome", json::parse(to_json_text(o))}});
  b.put_row(side_table::escalation_outcomes, big_endian(next_outcome_seq_++),
            text_record(outcome_row_tag, std::move(row)));
  if (refit)
    b.put_row(side_table::escalation_state, "r/" + big_endian(refit->version),
              text_record(refit_row_tag, to_json_text(*refit)));
  return b;
}

expected<restore_report> matrix_store::restore(matrix& m) {
  restore_report report;
  auto& s = *store_;
  // 0. Let rows queued before (by a previous incarnation of the actor,
  // whose assess does not wait for its input rows) land first: read
  // without them, the next input would take an id already used.
  // (A read-only journal has no writer, and nothing queued.)
  if (!s.options().read_only)
    if (auto ok = s.commit(write_batch{}); !ok)
      return std::move(ok).error();
  // 1. The graphs of the last checkpoint, if they are whole.
  if (auto row = s.row(side_table::escalation_state, checkpoint_key); !row) {
    return std::move(row).error();
  } else if (*row) {
    auto c = parse_checkpoint((*row)->payload);
    auto loaded = c ? m.load_graphs(dir_, c->graphs) : expected<void>{c.error()};
    if (loaded) {
      report.checkpoint_through = checkpoint_through_ = c->through;
      for (auto& g : c->graphs)
        checkpoint_files_.push_back(g.file);
    } else {
      report.checkpoint_problem = loaded.error().to_string();
      log::warn("escalation store: the graph checkpoint in " + dir_.string()
                + " is not usable, rebuilding the graphs from the journal: "
                + report.checkpoint_problem);
      m = matrix(m.options());
    }
  }
  // 2. The inputs after it, and enough before it to refill the budget window.
  auto window = std::max<std::uint64_t>(1, m.options().threshold.window);
  auto from = m.last_input_id() > window ? m.last_input_id() - window + 1 : 1;
  auto before_graph = m.stored_inputs();
  std::optional<error> failed;
  auto inputs = scan(s, side_table::escalation_inputs, "", from > 1 ? big_endian(from - 1) : "",
                     report.damaged_rows, [&](const stored_row& row) {
    if (failed)
      return;
    auto in = parse_input(row.rec, "escalation_inputs row " + std::to_string(from_big_endian(row.key)));
    if (!in) {
      ++report.damaged_rows;
      log::error("escalation store: " + in.error().to_string());
      return;
    }
    if (auto ok = m.restore_input(in->type, in->unit, from_big_endian(row.key), in->f); !ok) {
      ++report.damaged_rows;
      log::error("escalation store: input " + std::to_string(from_big_endian(row.key))
                 + " skipped: " + ok.error().to_string());
    }
  });
  if (!inputs)
    return std::move(inputs).error();
  report.inputs = m.stored_inputs();
  report.inserted = report.inputs - before_graph;
  // 3. Every outcome, in the order they were recorded.
  auto outcomes = scan(s, side_table::escalation_outcomes, "", "", report.damaged_rows,
                       [&](const stored_row& row) {
    next_outcome_seq_ = std::max(next_outcome_seq_, from_big_endian(row.key) + 1);
    try {
      auto j = json::parse(row.rec.payload);
      auto o = outcome_from_json(j.at("outcome").dump());
      if (!o)
        throw std::invalid_argument(o.error().to_string());
      m.restore_outcome(*o);
      ++report.outcomes;
    } catch (const std::exception& e) {
      ++report.damaged_rows;
      log::error("escalation store: outcome " + std::to_string(from_big_endian(row.key))
                 + " skipped: " + e.what());
    }
  });
  if (!outcomes)
    return std::move(outcomes).error();
  // 4. The last refit (keys sort by version).
  std::optional<refit_record> last;
  auto refits = scan(s, side_table::escalation_state, "r/", "", report.damaged_rows,
                     [&](const stored_row& row) {
    if (auto r = refit_from_json(row.rec.payload))
      last = std::move(*r);
    else {
      ++report.damaged_rows;
      log::error("escalation store: a refit row skipped: " + r.error().to_string());
    }
  });
  if (!refits)
    return std::move(refits).error();
  if (last) {
    m.restore_refit(*last);
    report.refit_version = last->version;
  }
  return report;
}

void matrix_store::remove_other_graph_files() const {
  remove_graph_files(dir_, "novelty-", checkpoint_files_);
}

expected<bool> matrix_store::checkpoint(const matrix& m, bool force) {
  auto through = m.last_input_id();
  // After a failed attempt, the next one waits checkpoint_every inputs too:
  // a save writes every stored vector, too much to redo at each decision.
  auto since = std::max(checkpoint_through_, checkpoint_tried_);
  if (through == checkpoint_through_ ||
      (!force && (opts_.checkpoint_every == 0 || through - since < opts_.checkpoint_every)))
    return false;
  checkpoint_tried_ = through;
  auto graphs = m.save_graphs(dir_, through);
  if (!graphs)
    return std::move(graphs).error();
  write_batch b;
  b.put_row(side_table::escalation_state, std::string{checkpoint_key},
            text_record(checkpoint_row_tag, checkpoint_text({through, *graphs})));
  if (auto ok = store_->commit(std::move(b)); !ok)
    return std::move(ok).error();
  // The new record is durable: no other graph file is needed, neither the
  // ones before it nor any a crash left (saved but never recorded, or
  // recorded and not yet deleted, or a damaged checkpoint's).
  checkpoint_files_.clear();
  for (auto& g : *graphs)
    checkpoint_files_.push_back(g.file);
  remove_other_graph_files();
  checkpoint_through_ = through;
  return true;
}

} // namespace endure::escalation
