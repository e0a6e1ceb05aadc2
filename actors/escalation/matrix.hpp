// The escalation matrix: score = w . (U, N, B) against a threshold, and how
// it learns. Each proposed action or answer is assessed (proceed or
// escalate, with the full breakdown); each answered escalation comes back
// as an outcome (did the person change it, and how much), which moves the
// benefit rates and the calibration, and every `refit_every` labels refits
// the weights by weighted logistic regression. A small randomized
// exploration slice escalates some low-score cases, its propensity logged,
// so the fit (inverse-propensity weighted) still sees the cases the score
// lets through and the missed-error rate stays estimable.
//
// Pure and deterministic for a seed: the benchmark runs it directly; the
// escalation actor owns one and persists what it learns (store.hpp). Not
// thread-safe: one owner.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <deque>
#include <string>
#include <vector>

#include "endure/actors/escalation/benefit.hpp"
#include "endure/actors/escalation/calibration.hpp"
#include "endure/actors/escalation/decision_log.hpp"
#include "endure/actors/escalation/logistic_fit.hpp"
#include "endure/actors/escalation/novelty_index.hpp"
#include "endure/actors/escalation/threshold.hpp"
#include "endure/actors/escalation/uncertainty.hpp"
#include "endure/persistence/error.hpp"

namespace endure::escalation {

struct matrix_options {
  threshold_options threshold;
  /// Irreversible actions never escalate less than this: their threshold
  /// is min(the current one, this). Default 0.5.
  double irreversible_threshold = 0.5;
  /// Share of below-threshold decisions escalated at random. Default 0.05.
  /// With a budget threshold the slice is inside the budget: the score's
  /// own share is lowered so that both together escalate max_rate.
  double exploration = 0.05;
  std::uint64_t seed = 1;
  /// Labels needed before the first refit (both outcomes among them), and
  /// new labels between refits. Defaults 30 and 20.
  std::size_t min_labels = 30;
  std::size_t refit_every = 20;
  /// A score within this of the threshold, assessed without samples, asks
  /// for `samples` samples of the same prompt first (0: never). Default 0.1.
  double grey_zone = 0.1;
  std::size_t samples = 3;
  novelty_options novelty;
  uncertainty_weights uncertainty;
  double benefit_prior_strength = 4;
  std::size_t calibration_min_cases = 20;
  logistic_options fit;
};

/// What a run proposes to do.
struct proposal {
  std::string task_type;        ///< "refund", "refund/eu": "/" nests types
  std::string input;            ///< the task's input, for novelty
  std::vector<float> embedding; ///< of `input` when the caller has one; else hashed n-grams
  std::string action;           ///< "tool:NAME" or "answer", for the record
  std::optional<double> confidence;  ///< the model's stated confidence
  std::string reasoning;             ///< the model's text, for hedging cues
  std::vector<std::string> samples;  ///< answers of N samples, when drawn
  bool irreversible = false;         ///< the policy calls the action irreversible
  /// The caller cannot draw samples: decide in the grey zone without them.
  bool samples_unavailable = false;
};

/// The matrix's answer, with everything that made it. A score or threshold
/// that is not a finite number (bad options, a broken input) escalates.
struct assessment {
  escalation::features features;
  uncertainty_parts uncertainty;
  std::array<double, 4> weights{};  ///< intercept, U, N, B of the score's model
  bool fitted = false;              ///< false: equal weights, score = mean of U, N, B
  double score = 0;
  double threshold = 0;
  escalation::decision decision = decision::proceed;
  bool explored = false;       ///< escalated by the exploration slice
  double propensity = 1;       ///< probability of the decision taken
  /// The score is in the grey zone and no samples were given: draw
  /// options().samples and assess again with them. Nothing was recorded.
  bool wants_samples = false;
  std::uint64_t model_version = 0;  ///< refits before this decision
  std::uint64_t input_id = 0;       ///< the stored input's id (0 if wants_samples)
  std::string reason;               ///< one line for people
  /// Set by the escalation actor: the key its outcome is recorded under
  /// (the assessing step's idempotency key). Empty from the matrix itself.
  std::string decision_key;
};

/// What turned out after a decision.
struct outcome {
  std::string task_type;
  escalation::features features;
  double score = 0;
  escalation::decision decision = decision::proceed;
  double propensity = 1;
  std::optional<double> confidence;
  /// How much a person changed the output, in [0, 1]: 0 approved as is, 1
  /// rejected or rewrote it. >= 0.5 labels the case an error.
  double changed = 0;
};

/// A refit, as journaled: the weights, the calibration maps and how many
/// labels it saw.
struct refit_record {
  std::uint64_t version = 0;  ///< 1 for the first refit
  std::uint64_t labels = 0;
  std::array<double, 4> weights{};
  std::map<std::string, platt_scaling, std::less<>> calibration;
};

class matrix {
public:
  explicit matrix(matrix_options options = {});

  const matrix_options& options() const noexcept { return opts_; }

  /// Assesses a proposal. The input is stored as a past input of its type
  /// (and its score enters the budget window) unless wants_samples; its
  /// unit vector is then put in `stored_unit` when given (what a store
  /// keeps). invalid_argument for an embedding of the wrong width.
  expected<assessment> assess(const proposal& p, std::vector<float>* stored_unit = nullptr);

  /// Learns from an outcome (one with a feature outside [0, 1] or not a
  /// number is ignored); returns the refit it triggered, if any: none when the fit
  /// did not converge, the model in use then stays and the next outcome
  /// tries again.
  std::optional<refit_record> record(const outcome& o);

  /// Restores state at start, before the first assess(), in this order:
  /// the graphs of a checkpoint (load_graphs), the stored inputs in id
  /// order, the outcomes in order (without refitting), the last journaled
  /// refit. restore_input adds an input to its graph unless a loaded graph
  /// holds its id already (ids at or below last_input_id()), and puts its
  /// features in the budget window either way: a store passes at least the
  /// last threshold.window inputs. New inputs get ids above the last one.
  expected<void> restore_input(std::string_view task_type, std::span<const float> unit,
                               std::uint64_t id, const features& f);
  void restore_outcome(const outcome& o) { learn(o); }
  void restore_refit(const refit_record& r);

  /// The past-input graphs saved into / loaded from a checkpoint
  /// directory (novelty_index::save and ::load: errors and guarantees
  /// there).
  expected<std::vector<saved_graph>> save_graphs(const std::filesystem::path& dir,
                                                 std::uint64_t checkpoint) const {
    return novelty_.save(dir, checkpoint);
  }
  expected<void> load_graphs(const std::filesystem::path& dir,
                             std::span<const saved_graph> graphs) {
    return novelty_.load(dir, graphs);
  }
  /// Past inputs held, and the largest id among them (0: none).
  std::size_t stored_inputs() const noexcept { return novelty_.size(); }
  std::uint64_t last_input_id() const noexcept { return novelty_.max_id(); }

  std::uint64_t labels() const noexcept { return labelled_.size(); }
  std::uint64_t model_version() const noexcept { return version_; }

  /// The score of features under the current weights (no side effects).
  double score_of(const features& f) const;

private:
  expected<features> features_of(const proposal& p, std::span<const float> unit,
                                 uncertainty_parts& parts) const;
  std::uint64_t next_input_id() const noexcept { return novelty_.max_id() + 1; }
  void learn(const outcome& o);
  std::optional<refit_record> refit();
  void rescore_window();
  void remember_in_window(const features& f);
  static threshold_options budget_for_score(const matrix_options& o);
  std::vector<float> embedding_of(const proposal& p) const;

  matrix_options opts_;
  confidence_calibrator calibration_;
  benefit_model benefit_;
  novelty_index novelty_;
  threshold threshold_;
  std::vector<labelled_case> labelled_;
  std::size_t labels_at_refit_ = 0;
  std::optional<logistic_model> model_;
  std::uint64_t version_ = 0;
  std::deque<features> recent_;  ///< the budget window's decisions, re-scored at each refit
};

} // namespace endure::escalation
