// Hedging lexicon, sample agreement and their combination into U.
#include "endure/actors/escalation/uncertainty.hpp"

#include "endure/actors/escalation/detail/words.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>

namespace endure::escalation {

namespace {

const std::array<hedge_cue, 24> lexicon{{
  {"might", 0.3},       {"may", 0.2},           {"maybe", 0.4},        {"perhaps", 0.4},
  {"possibly", 0.4},    {"probably", 0.3},      {"likely", 0.2},       {"unlikely", 0.2},
  {"i think", 0.3},     {"i believe", 0.3},     {"i guess", 0.5},      {"apparently", 0.3},
  {"seems", 0.2},       {"appears", 0.2},       {"not sure", 0.6},     {"unsure", 0.6},
  {"unclear", 0.5},     {"uncertain", 0.6},     {"hard to say", 0.6},  {"could be", 0.3},
  {"assume", 0.3},      {"assuming", 0.3},      {"not certain", 0.6},  {"best guess", 0.6},
}};

std::size_t occurrences(const std::vector<std::string>& words,
                        const std::vector<std::string>& phrase) {
  if (phrase.empty() || phrase.size() > words.size())
    return 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i + phrase.size() <= words.size(); ++i)
    if (std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<std::ptrdiff_t>(i)))
      ++n;
  return n;
}

std::string normalized_answer(const std::string& answer) {
  std::string out;
  bool space = false;
  for (char ch : answer) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space)
      out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  while (!out.empty() && std::ispunct(static_cast<unsigned char>(out.back())))
    out.pop_back();
  return out;
}

} // namespace

std::span<const hedge_cue> default_hedge_lexicon() { return lexicon; }

double hedging_score(std::string_view text, std::span<const hedge_cue> cues) {
  auto words = detail::lower_words(text);
  double sum = 0;
  for (auto& cue : cues)
    sum += cue.weight * static_cast<double>(std::min<std::size_t>(3, occurrences(words, detail::lower_words(cue.phrase))));
  return 1 - std::exp(-sum);
}

std::optional<double> sample_disagreement(std::span<const std::string> answers) {
  if (answers.size() < 2)
    return std::nullopt;
  std::map<std::string, std::size_t> groups;
  std::size_t largest = 0;
  for (auto& a : answers)
    largest = std::max(largest, ++groups[normalized_answer(a)]);
  return 1 - static_cast<double>(largest) / static_cast<double>(answers.size());
}

uncertainty_parts combine_uncertainty(std::optional<double> stated_confidence,
                                      std::optional<double> calibrated_error,
                                      std::optional<double> disagreement, double hedging,
                                      const uncertainty_weights& w) {
  uncertainty_parts u{stated_confidence, calibrated_error, disagreement, hedging, 0};
  double base = calibrated_error && std::isfinite(*calibrated_error) ? *calibrated_error : 0.5;
  base = std::clamp(base, 1e-4, 1 - 1e-4);
  double z = std::log(base / (1 - base));
  if (std::isfinite(hedging))
    z += w.hedging * hedging;
  if (disagreement && std::isfinite(*disagreement))
    z += w.disagreement * *disagreement;
  u.value = 1 / (1 + std::exp(-z));
  return u;
}

} // namespace endure::escalation
