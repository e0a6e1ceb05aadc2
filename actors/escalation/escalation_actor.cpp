// The escalation actor (detail/escalation_actor.hpp).
#include "endure/actors/escalation/detail/escalation_actor.hpp"

#include <caf/all.hpp>

#include <deque>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/escalation/escalation_options.hpp"
#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/actors/escalation/store.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

using json = nlohmann::json;

/// Assessments answered lately, by key: a retried step whose decision row
/// is still in the journal's queue gets the same answer.
class recent_answers {
public:
  const std::string* find(const std::string& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &it->second;
  }
  void add(const std::string& key, std::string text) {
    if (!by_key_.emplace(key, std::move(text)).second)
      return;
    order_.push_back(key);
    if (order_.size() > capacity) {
      by_key_.erase(order_.front());
      order_.pop_front();
    }
  }

private:
  static constexpr std::size_t capacity = 4096;
  std::unordered_map<std::string, std::string> by_key_;
  std::deque<std::string> order_;
};

struct escalation_state {
  journal* store = nullptr;
  std::unique_ptr<escalation::matrix> matrix;
  std::unique_ptr<escalation::matrix_store> rows;
  escalation::restore_report restored;
  recent_answers recent;
  static inline const char* name = "endure.escalation";
};

using escalation_actor = caf::stateful_actor<escalation_state>;

caf::result<std::string> refuse(errc code, std::string message) {
  return caf::result<std::string>{to_caf_error(code, std::move(message))};
}

caf::result<std::string> on_assess(escalation_actor* self, const std::string& key,
                                   const std::string& body) {
  auto& st = self->state;
  if (!key.empty()) {
    if (auto* text = st.recent.find(key))
      return *text;
    auto before = st.rows->decision(key);
    if (!before)
      return refuse(before.error().code, "decision " + key + ": " + before.error().message);
    if (*before)
      return escalation::to_json_text(**before);
  }
  auto p = escalation::proposal_from_json(body);
  if (!p)
    return refuse(errc::invalid_argument, "decision " + key + ": " + p.error().message);
  std::vector<float> unit;
  auto a = st.matrix->assess(*p, &unit);
  if (!a)
    return refuse(a.error().code, "decision " + key + ": " + a.error().message);
  if (a->wants_samples)
    return escalation::to_json_text(*a);  // nothing stored: asked again with samples
  a->decision_key = key;
  auto text = escalation::to_json_text(*a);
  // Queued now, durable before the run's own commit of this answer (the
  // journal's FIFO): no wait here.
  st.store->commit(st.rows->assessment_rows(p->task_type, unit, *a),
                   [key](expected<void> done) {
                     if (!done)
                       log::error("escalation: the input of decision " + key
                                  + " was not journaled: " + done.error().to_string());
                   });
  if (!key.empty())
    st.recent.add(key, text);
  if (auto saved = st.rows->checkpoint(*st.matrix); !saved)
    log::warn("escalation: the graph checkpoint failed (the next start catches up from the "
              "journal instead): " + saved.error().to_string());
  return text;
}

caf::result<std::string> on_outcome(escalation_actor* self, const std::string& key,
                                    const std::string& body) {
  auto& st = self->state;
  if (key.empty())
    return refuse(errc::invalid_argument, "an outcome needs the key of its decision");
  auto o = escalation::outcome_from_json(body);
  if (!o)
    return refuse(errc::invalid_argument, "outcome of decision " + key + ": " + o.error().message);
  auto seen = st.rows->has_outcome(key);
  if (!seen)
    return refuse(seen.error().code, "outcome of decision " + key + ": " + seen.error().message);
  if (*seen)
    return json{{"recorded", false}, {"refit", nullptr}, {"labels", st.matrix->labels()}}.dump();
  auto refit = st.matrix->record(*o);
  if (auto ok = st.store->commit(st.rows->outcome_rows(key, *o, refit)); !ok) {
    // The matrix learned what the journal does not hold: start again from
    // the journal rather than drift from it.
    auto message = "outcome of decision " + key + " was not journaled: " + ok.error().to_string();
    log::error("escalation: " + message + "; restarting from the journal");
    self->quit(to_caf_error(ok.error().code, message));
    return refuse(ok.error().code, message);
  }
  json refit_json = refit ? json(refit->version) : json(nullptr);
  return json{{"recorded", true}, {"refit", refit_json}, {"labels", st.matrix->labels()}}.dump();
}

std::string stats_text(const escalation_state& st) {
  auto& r = st.restored;
  return json{{"inputs", st.matrix->stored_inputs()},
              {"labels", st.matrix->labels()},
              {"model_version", st.matrix->model_version()},
              {"restored",
               {{"inputs", r.inputs}, {"inserted", r.inserted}, {"outcomes", r.outcomes},
                {"refit_version", r.refit_version}, {"checkpoint_through", r.checkpoint_through},
                {"checkpoint_problem", r.checkpoint_problem}, {"damaged_rows", r.damaged_rows}}}}
    .dump();
}

caf::behavior escalation_main(escalation_actor* self, journal* store,
                              escalation::escalation_options options) {
  exit_on_exception(self);
  auto& st = self->state;
  st.store = store;
  st.matrix = std::make_unique<escalation::matrix>(options.matrix);
  st.rows = std::make_unique<escalation::matrix_store>(*store, options.store);
  auto restored = st.rows->restore(*st.matrix);
  if (!restored) {
    log::error("escalation: cannot restore the matrix from the journal: "
               + restored.error().to_string());
    self->quit(to_caf_error(restored.error()));
    return {};
  }
  st.restored = *restored;
  if (restored->inputs || restored->outcomes)
    log::info("escalation: restored " + std::to_string(restored->inputs) + " inputs ("
              + std::to_string(restored->inserted) + " inserted), "
              + std::to_string(restored->outcomes) + " outcomes, model version "
              + std::to_string(restored->refit_version));
  return {
    [=](atoms::esc_assess, const std::string& key, const std::string& body) {
      return on_assess(self, key, body);
    },
    [=](atoms::esc_outcome, const std::string& key, const std::string& body) {
      return on_outcome(self, key, body);
    },
    [=](atoms::esc_stats) { return stats_text(self->state); },
  };
}

} // namespace

caf::actor spawn_escalation_actor(caf::local_actor& parent, journal& store,
                                  const escalation::escalation_options& options) {
  return parent.spawn<caf::detached>(escalation_main, &store, options);
}

} // namespace endure::detail
