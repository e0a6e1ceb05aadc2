// The task stream of escalation_stream.hpp. Every number here is part of
// the stream's written definition in bench/README.md: change both or none.
#include "escalation_stream.hpp"

#include <array>
#include <cmath>
#include <map>
#include <random>

namespace endure::bench {

namespace {

struct type_spec {
  const char* name;
  double share;       ///< of all tasks
  double base_error;  ///< error rate on a familiar topic
};

constexpr std::array<type_spec, 4> types{{
  {"refund", 0.35, 0.04},
  {"shipping", 0.30, 0.06},
  {"billing", 0.25, 0.08},
  {"legal/contract", 0.10, 0.12},
}};

constexpr double novel_error = 0.45;    ///< extra error chance on a brand-new topic
constexpr double familiarity = 30;      ///< tasks of a topic until the extra has fallen to 1/e
constexpr std::size_t topic_every = 150;///< a type gets a new topic every this many of its tasks
constexpr std::size_t topic_words = 6;

/// A pronounceable made-up word: topics share no vocabulary by accident.
std::string pseudo_word(std::mt19937_64& rng) {
  static const char* cons = "bcdfghklmnprstvz";
  static const char* vow = "aeiou";
  std::string w;
  auto syllables = 2 + rng() % 2;
  for (std::size_t i = 0; i < syllables; ++i) {
    w.push_back(cons[rng() % 16]);
    w.push_back(vow[rng() % 5]);
  }
  return w;
}

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

struct topic {
  std::vector<std::string> words;
  double seen = 0;
};

} // namespace

bool policy_gates(const std::string& task_type) { return task_type.rfind("legal", 0) == 0; }

std::vector<stream_task> make_task_stream(const stream_options& options) {
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::normal_distribution<double> normal(0, 1);
  std::map<std::string, std::vector<topic>> topics;
  std::map<std::string, std::size_t> per_type;
  std::vector<stream_task> out;
  out.reserve(options.tasks);
  for (std::size_t i = 0; i < options.tasks; ++i) {
    // The type, by share.
    double pick = uniform(rng), acc = 0;
    const type_spec* type = &types.back();
    for (auto& t : types)
      if (pick < (acc += t.share)) {
        type = &t;
        break;
      }
    auto& pool = topics[type->name];
    auto n = per_type[type->name]++;
    if (n % topic_every == 0) {  // drift: a new topic arrives
      topic fresh;
      for (std::size_t w = 0; w < topic_words; ++w)
        fresh.words.push_back(pseudo_word(rng));
      pool.push_back(std::move(fresh));
    }
    // The newest topics are the most asked: topic j (0 = oldest) weighs 2^j.
    double total = 0;
    for (std::size_t j = 0; j < pool.size(); ++j)
      total += std::pow(2.0, static_cast<double>(j));
    double r = uniform(rng) * total;
    std::size_t chosen = pool.size() - 1;
    for (std::size_t j = 0; j < pool.size(); ++j)
      if ((r -= std::pow(2.0, static_cast<double>(j))) < 0) {
        chosen = j;
        break;
      }
    auto& tp = pool[chosen];

    stream_task t;
    t.index = i;
    t.task_type = type->name;
    t.topic_seen = tp.seen;
    double newness = std::exp(-tp.seen / familiarity);  // 1 brand new, -> 0 familiar
    t.risk = type->base_error + novel_error * newness;
    t.error = uniform(rng) < t.risk;
    // Confidence: a logit that separates right from wrong by 2.4 on a
    // familiar topic and by a fifth of that on a new one, centred high.
    double separation = 2.4 * (1 - 0.8 * newness);
    double logit = 2.2 + (t.error ? -separation / 2 : separation / 2) + 0.8 * normal(rng);
    t.confidence = sigmoid(logit);
    // Input: the type's name, four of the topic's words, one stray word.
    t.input = std::string(type->name) + " request:";
    for (int w = 0; w < 4; ++w)
      t.input += ' ' + tp.words[rng() % tp.words.size()];
    t.input += ' ' + pseudo_word(rng);
    // Reasoning: a hedge 25% of the time when wrong, 10% when right.
    bool hedge = uniform(rng) < (t.error ? 0.25 : 0.10);
    t.reasoning = hedge ? "I think this is probably the answer." : "This is the answer.";
    tp.seen += 1;
    out.push_back(std::move(t));
  }
  return out;
}

} // namespace endure::bench
