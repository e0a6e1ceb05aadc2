// The uncertainty input U of the escalation score, from up to three
// signals: the model's stated confidence (calibrated, calibration.hpp), the
// disagreement of N samples of the same prompt (drawn only in a grey zone),
// and hedging cues in the reasoning text. Pure, no CAF, any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace endure::escalation {

/// A phrase that signals hedging and how much it counts.
struct hedge_cue {
  std::string phrase;  ///< lower case words separated by single spaces
  double weight = 0;
};

/// The built-in English lexicon ("might", "not sure", "i think", ...).
std::span<const hedge_cue> default_hedge_lexicon();

/// 1 - exp(-sum of the weights of the cues found), in [0, 1): no cue 0, one
/// strong cue about 0.4, several near 1. Matching is on whole words, case
/// insensitive; a cue counts at most 3 times.
double hedging_score(std::string_view text,
                     std::span<const hedge_cue> lexicon = default_hedge_lexicon());

/// 1 - (the largest group of equivalent answers / all answers): 0 when all
/// agree, near 1 when all differ. Answers are equivalent when equal after
/// lower-casing, collapsing white space and trimming trailing punctuation.
/// Empty for fewer than 2 answers.
std::optional<double> sample_disagreement(std::span<const std::string> answers);

/// How U was made, for the breakdown a run journals.
struct uncertainty_parts {
  std::optional<double> stated_confidence;  ///< the model's, as given
  std::optional<double> calibrated_error;   ///< P(wrong | confidence, task type)
  std::optional<double> disagreement;       ///< of the samples, when drawn
  double hedging = 0;                       ///< of the reasoning text
  double value = 0;                         ///< U, in [0, 1]
};

/// How much hedging and disagreement move U, as log-odds per unit of each:
/// U = sigmoid(logit(calibrated error) + hedging * h + disagreement * d),
/// the calibrated error standing at an uninformed 0.5 when the model stated
/// no confidence. Cues update the odds the confidence gives, as evidence
/// does (a weighted mean would let a weak cue drown a strong confidence).
struct uncertainty_weights {
  double hedging = 1.0;       ///< "I think ... probably" (0.45): odds x1.6
  double disagreement = 2.0;  ///< 3 samples, all different (0.67): odds x3.8
};

uncertainty_parts combine_uncertainty(std::optional<double> stated_confidence,
                                      std::optional<double> calibrated_error,
                                      std::optional<double> disagreement, double hedging,
                                      const uncertainty_weights& weights = {});

} // namespace endure::escalation
