// A runtime on a temp data directory inside its own CAF actor system, for
// workflow tests. Reopen it to simulate a restart in-process (the crash
// tests use real child processes instead).
#pragma once

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "endure/actors/endure.hpp"
#include "endure/actors/events.hpp"
#include "endure/supervisors/atoms.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace endure::test {

/// Wall-clock milliseconds since the Unix epoch: the clock the journal's
/// timestamps and timer due times use.
inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The events of run `id` in `store`, decoded, in journal order; throws if
/// a record cannot be read (a test failure, not a case to handle).
inline std::vector<run_event> read_events(const journal& store, const std::string& id) {
  auto records = store.read(id);
  if (!records)
    throw std::runtime_error(records.error().to_string());
  std::vector<run_event> out;
  for (auto& r : *records) {
    auto ev = decode_event(r.rec, id, r.seq);
    if (!ev)
      throw std::runtime_error(ev.error().to_string());
    out.push_back(std::move(*ev));
  }
  return out;
}

/// Only the events of type E.
template <class E>
std::vector<E> events_of(const journal& store, const std::string& id) {
  std::vector<E> out;
  for (auto& ev : read_events(store, id))
    if (auto* e = std::get_if<E>(&ev))
      out.push_back(*e);
  return out;
}

/// A retry policy for tests: `max` attempts, backoffs of 1-5 ms.
inline retry_policy fast(std::uint32_t max) {
  retry_policy p;
  p.max_attempts = max;
  p.initial_interval = std::chrono::milliseconds{1};
  p.max_interval = std::chrono::milliseconds{5};
  return p;
}

class runtime_fixture {
public:
  explicit runtime_fixture(std::function<void(workflow_registry&)> register_fn,
                           std::function<void(runtime_options&)> tune = {})
    : register_(std::move(register_fn)), tune_(std::move(tune)) {
    open();
  }
  ~runtime_fixture() { close(); }

  void open() {
    cfg_.emplace();
    cfg_->set("scheduler.max-threads", 2);
    sys_.emplace(*cfg_);
    runtime_options opts;
    opts.journal.data_dir = dir_.path();
    opts.journal.mode = durability::nosync;  // tests: process-crash durability suffices
    opts.activity_threads = 4;
    if (tune_)
      tune_(opts);
    workflow_registry reg;
    register_(reg);
    auto rt = runtime::open(*sys_, opts, std::move(reg));
    if (!rt)
      throw std::runtime_error(rt.error().to_string());
    rt_ = std::move(*rt);
  }

  /// Destroys the runtime only (its shutdown), keeping the actor system.
  /// May run on another thread, unlike close(): CAF 0.17's ~actor_system
  /// waits for its logger, which a thread-local of the thread that made the
  /// system keeps alive, so the system must die on that thread.
  void stop_runtime() { rt_.reset(); }

  void close() {
    rt_.reset();
    sys_.reset();
    cfg_.reset();
  }

  /// Before a test counts the journal's commits over a span: waits (at most
  /// 10 s) for the human gateway's start to write its index marker (a
  /// batch of its own, late on a loaded machine), then commits nothing
  /// through the runtime's writer, so that every commit before is counted
  /// (a commit is visible to readers a moment before the writer counts it).
  bool settle_commits() {
    bool started = eventually([&] {
      auto n = rt_->store().count_rows(side_table::request_index, "");
      return n && *n >= 1;
    });
    // The runtime hands its journal out read-only; committing nothing
    // through it changes nothing.
    return started && const_cast<journal&>(rt_->store()).commit(write_batch{}).has_value();
  }

  /// Waits (at most 10 s) until run `id` is stored with `status`.
  bool await_status(const std::string& id, run_status status) {
    return eventually([&] {
      auto meta = rt_->store().run(id);
      return meta && meta->status == status;
    });
  }

  /// How run `id` ended, waiting at most `timeout`; a wait that fails
  /// (timeout, unknown run) fails the test with its error, instead of
  /// reading an empty expected.
  run_outcome ended(const std::string& id, std::chrono::milliseconds timeout) {
    auto out = rt_->wait(id, timeout);
    INFO("wait for run " << id << ": " << (out ? "ok" : out.error().to_string()));
    REQUIRE(out);
    return *out;
  }

  /// The current child `id` of the runtime's supervision tree ("runs",
  /// "human_gateway", ...); invalid if the tree does not answer in 5 s.
  caf::actor tree_child(const std::string& id) {
    caf::scoped_actor self{*sys_};
    caf::actor out;
    self->request(rt_->supervisor(), std::chrono::seconds{5}, find_child_atom::value, id)
      .receive([&](caf::actor& a) { out = std::move(a); }, [](const caf::error&) {});
    return out;
  }

  /// The events of type E of run `id` in the open runtime's journal.
  template <class E>
  std::vector<E> events(const std::string& id) const {
    return events_of<E>(rt_->store(), id);
  }

  /// The journal opened directly, as `endure signal` does while no runtime
  /// holds the directory (close() first).
  std::unique_ptr<journal> open_journal() const {
    auto j = journal::open({.data_dir = dir_.path()});
    if (!j)
      throw std::runtime_error(j.error().to_string());
    register_event_types((*j)->types());
    return std::move(*j);
  }

  void reopen() {
    close();
    open();
  }

  runtime& rt() { return *rt_; }
  caf::actor_system& sys() { return *sys_; }
  const std::string& dir() const { return dir_.path(); }

private:
  temp_dir dir_;
  std::function<void(workflow_registry&)> register_;
  std::function<void(runtime_options&)> tune_;
  std::optional<caf::actor_system_config> cfg_;
  std::optional<caf::actor_system> sys_;
  std::unique_ptr<runtime> rt_;
};

} // namespace endure::test
