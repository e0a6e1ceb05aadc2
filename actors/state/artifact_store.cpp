// Artifacts in the journal's side table (artifact_store.hpp).
#include "endure/actors/state/artifact_store.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/net/sha256.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"

namespace endure::state {

namespace {

using json = nlohmann::json;

constexpr std::size_t page_size = 1024;
/// A put whose if-absent rows were taken after it read (not expected:
/// puts are serialized, see put()) tries again with what it then reads.
constexpr int max_attempts = 8;

std::string big_endian(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

/// The seq at the end of a listing key.
std::uint64_t seq_of(std::string_view key) {
  std::uint64_t v = 0;
  for (unsigned char c : key.substr(key.size() >= 8 ? key.size() - 8 : 0))
    v = (v << 8) | c;
  return v;
}

std::string blob_key(std::string_view hash) { return "b/" + std::string{hash}; }
std::string listing_prefix(std::string_view task) { return "r/" + std::string{task} + "/"; }
std::string listing_key(std::string_view task, std::uint64_t seq) {
  return listing_prefix(task) + big_endian(seq);
}

/// The index key of a put's identity: task, name and provenance, hashed
/// (names and run ids may be long; the identity itself is in the row).
std::string index_key(std::string_view task, std::string_view name,
                      const artifact_provenance& p) {
  std::string who{task};
  for (auto part : {std::string_view{name}, std::string_view{p.run_id}})
    (who += '\0') += part;
  (who += '\0') += std::to_string(p.session);
  (who += '\0') += std::to_string(p.step);
  auto h = XXH3_128bits(who.data(), who.size());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string{"k/"} + buf;
}

bool unreadable(const error& e) {
  return e.code == errc::corrupt_record || e.code == errc::newer_record_version ||
         e.code == errc::unknown_record_type;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

record listing_record(const artifact_entry& e) {
  json j = {{"name", e.name}, {"hash", e.hash}, {"size", e.size},
            {"run", e.provenance.run_id}, {"session", e.provenance.session},
            {"step", e.provenance.step}, {"at_ms", e.at_ms}};
  return record{artifact_ref_tag, 1, j.dump()};
}

expected<artifact_entry> parse_listing(std::string_view text) {
  try {
    auto j = json::parse(text);
    artifact_entry e;
    e.name = j.at("name").get<std::string>();
    e.hash = j.at("hash").get<std::string>();
    e.size = j.at("size").get<std::uint64_t>();
    e.provenance.run_id = j.at("run").get<std::string>();
    e.provenance.session = j.at("session").get<std::uint32_t>();
    e.provenance.step = j.at("step").get<std::uint64_t>();
    e.at_ms = j.at("at_ms").get<std::int64_t>();
    return e;
  } catch (const std::exception& ex) {
    return make_error(errc::corrupt_record, std::string{"artifact listing: "} + ex.what());
  }
}

record index_record(std::string_view task, std::string_view name, const artifact_provenance& p,
                    std::uint64_t seq) {
  json j = {{"task", task}, {"name", name}, {"run", p.run_id}, {"session", p.session},
            {"step", p.step}, {"seq", seq}};
  return record{artifact_index_tag, 1, j.dump()};
}

/// The listing seq an index row names, if it is this identity's (a hash
/// collision or a damaged row reads as none).
std::optional<std::uint64_t> indexed_seq(const record& r, std::string_view task,
                                         std::string_view name, const artifact_provenance& p) {
  auto j = json::parse(r.payload, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  bool same = j.value("task", "") == task && j.value("name", "") == name &&
              j.value("run", "") == p.run_id && j.value("session", 0u) == p.session &&
              j.value("step", std::uint64_t{0}) == p.step;
  if (!same || !j.contains("seq") || !j["seq"].is_number_unsigned())
    return std::nullopt;
  return j["seq"].get<std::uint64_t>();
}

bool valid_hash(std::string_view hash) {
  if (hash.size() != 64)
    return false;
  for (char c : hash)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

bool valid_artifact_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 255)
    return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f)
      return false;
  return true;
}

artifact_store::artifact_store(journal& store, artifact_options options)
  : store_(&store), opts_(options) {}

namespace {

/// Adds the blob row to `b` unless an intact blob of `hash` holding these
/// bytes is stored already.
expected<void> add_blob(const journal& store, write_batch& b, const std::string& hash,
                        std::string_view bytes) {
  auto key = blob_key(hash);
  auto row = store.row(side_table::artifacts, key);
  if (!row && !unreadable(row.error()))
    return std::move(row).error();
  bool intact = row && *row && (**row).payload == bytes;
  if (intact)
    return {};
  if (row && !*row) {
    b.put_row(side_table::artifacts, key, record{artifact_blob_tag, 1, std::string{bytes}}, true);
    return {};
  }
  log::error("artifacts: the blob " + hash + " is damaged and is written again");
  b.put_row(side_table::artifacts, key, record{artifact_blob_tag, 1, std::string{bytes}});
  return {};
}

/// Where a put identity's listing is.
struct listing_place {
  std::optional<std::uint64_t> seq;  ///< nullopt: not listed yet
  bool indexed = false;              ///< its index row is intact
  bool index_damaged = false;        ///< its index row is there but unreadable
};

/// The listing this put identity made, by its index row; a damaged index
/// row is searched for among the task's listings.
expected<listing_place> existing_seq(const journal& store, std::string_view task,
                                     std::string_view name, const artifact_provenance& p) {
  using answer = listing_place;
  auto row = store.row(side_table::artifacts, index_key(task, name, p));
  if (!row && !unreadable(row.error()))
    return std::move(row).error();
  if (row && !*row)
    return answer{};
  if (row)
    if (auto seq = indexed_seq(**row, task, name, p))
      return answer{*seq, true};
  // Damaged (or, at 2^-128, another identity's): find it by scanning.
  answer out{std::nullopt, false, true};
  std::string after;
  for (;;) {
    auto page = store.rows(side_table::artifacts, listing_prefix(task), after, page_size);
    if (!page)
      return std::move(page).error();
    for (auto& r : page->rows) {
      auto e = parse_listing(r.rec.payload);
      if (e && e->name == name && e->provenance == p) {
        out.seq = seq_of(r.key);
        return out;
      }
      after = r.key;
    }
    for (auto& [key, why] : page->damaged)
      after = std::max(after, key);
    if (page->rows.size() + page->damaged.size() < page_size)
      return out;
  }
}

/// Adds the rows that list `e`: its identity's listing updated in place
/// when the bytes changed (a re-run that made other bytes), or a new
/// listing after the task's last. New rows are written if absent, so a put
/// racing for the same seq or identity fails its batch and tries again.
expected<void> add_listing(const journal& store, write_batch& b, std::string_view task,
                           const artifact_entry& e) {
  auto place = existing_seq(store, task, e.name, e.provenance);
  if (!place)
    return std::move(place).error();
  auto index = index_key(task, e.name, e.provenance);
  if (place->seq) {
    auto seq = *place->seq;
    auto old = store.row(side_table::artifacts, listing_key(task, seq));
    auto listed = old && *old ? parse_listing((**old).payload) : parse_listing("");
    if (!listed || listed->hash != e.hash)
      b.put_row(side_table::artifacts, listing_key(task, seq), listing_record(e));
    if (!place->indexed)
      b.put_row(side_table::artifacts, index, index_record(task, e.name, e.provenance, seq));
    return {};
  }
  auto count = store.count_rows(side_table::artifacts, listing_prefix(task));
  if (!count)
    return std::move(count).error();
  auto next = static_cast<std::uint64_t>(*count) + 1;
  b.put_row(side_table::artifacts, listing_key(task, next), listing_record(e), true);
  // A damaged index row is replaced; an intact one another put wrote since
  // fails the batch (if absent), which then tries again.
  b.put_row(side_table::artifacts, index, index_record(task, e.name, e.provenance, next),
            !place->index_damaged);
  return {};
}

} // namespace

expected<std::string> artifact_store::put(std::string_view task, std::string_view name,
                                          std::string_view bytes,
                                          const artifact_provenance& provenance) {
  auto where = "artifact '" + std::string{name} + "' of task '" + std::string{task} + "'";
  if (!valid_id(task))
    return make_error(errc::invalid_argument,
                      where + ": the task id must be 1 to 100 of [A-Za-z0-9._-]");
  if (!valid_artifact_name(name))
    return make_error(errc::invalid_argument,
                      where + ": the name must be 1 to 255 bytes without control characters");
  if (bytes.size() > opts_.max_bytes)
    return make_error(errc::invalid_argument,
                      where + ": " + std::to_string(bytes.size()) + " bytes is over the limit of "
                        + std::to_string(opts_.max_bytes)
                        + " (artifact_options::max_bytes); keep large files in the workspace");
  std::string hash;
  try {
    hash = net::sha256_hex(bytes);
  } catch (const std::exception& e) {
    return make_error(errc::io_error, where + ": " + e.what());
  }
  // One put at a time in the process: a put reads (is the blob there,
  // which seq is next) and then commits, and concurrent puts to one task
  // would race for the same seq. Only one process writes a journal (its
  // data directory is locked), so this removes the races the if-absent
  // rows would otherwise turn into retries (measured: 4 threads putting to
  // one task lost 8 rounds in a row within 60 puts). Puts are a step's
  // worth of work each; serializing them costs little.
  static std::mutex one_put;
  std::lock_guard lock{one_put};
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    write_batch b;
    if (auto blob = add_blob(*store_, b, hash, bytes); !blob)
      return std::move(blob).error();
    artifact_entry entry{std::string{name}, hash, bytes.size(), provenance, now_ms()};
    if (auto listing = add_listing(*store_, b, task, entry); !listing)
      return std::move(listing).error();
    if (b.empty())
      return hash;  // the same put again: everything is stored
    auto done = store_->commit(std::move(b));
    if (done)
      return hash;
    if (done.error().code != errc::already_exists)
      return make_error(done.error().code, where + ": " + done.error().message);
    // Another put won a race for the blob, the seq or this identity: again.
  }
  return make_error(errc::invalid_state, where + ": " + std::to_string(max_attempts)
                                           + " attempts lost a race with other puts");
}

expected<std::string> artifact_store::get(std::string_view hash) const {
  auto where = "artifact " + std::string{hash};
  if (!valid_hash(hash))
    return make_error(errc::invalid_argument,
                      where + ": an artifact id is 64 lowercase hex digits (SHA-256)");
  auto row = store_->row(side_table::artifacts, blob_key(hash));
  if (!row)
    return make_error(row.error().code,
                      where + ": the blob cannot be read (" + row.error().message
                        + "); put the same bytes again to repair it");
  if (!*row)
    return make_error(errc::not_found, where + ": no such artifact is stored");
  std::string actual;
  try {
    actual = net::sha256_hex((**row).payload);
  } catch (const std::exception& e) {
    return make_error(errc::io_error, where + ": " + e.what());
  }
  if (actual != hash)
    return make_error(errc::corrupt_record,
                      where + ": the stored bytes hash to " + actual
                        + ": the blob is damaged; put the same bytes again to repair it");
  return std::move((**row).payload);
}

expected<std::vector<artifact_entry>> artifact_store::list(std::string_view task) const {
  if (!valid_id(task))
    return make_error(errc::invalid_argument, "artifacts of task '" + std::string{task}
                                                + "': the task id must be 1 to 100 of "
                                                  "[A-Za-z0-9._-]");
  std::vector<artifact_entry> out;
  std::string after;
  for (;;) {
    auto page = store_->rows(side_table::artifacts, listing_prefix(task), after, page_size);
    if (!page)
      return std::move(page).error();
    for (auto& r : page->rows) {
      after = r.key;
      auto e = parse_listing(r.rec.payload);
      if (!e) {
        log::error("artifacts of task " + std::string{task}
                   + ": skipped a listing that cannot be read: " + e.error().message);
        continue;
      }
      out.push_back(std::move(*e));
    }
    for (auto& [key, why] : page->damaged) {
      log::error("artifacts of task " + std::string{task} + ": skipped a damaged listing: "
                 + why.to_string());
      after = std::max(after, key);
    }
    if (page->rows.size() + page->damaged.size() < page_size)
      return out;
  }
}

} // namespace endure::state
