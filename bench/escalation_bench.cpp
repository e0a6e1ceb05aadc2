// bench/escalation: does the escalation matrix catch silent failures?
// (issue 17; bench/README.md "bench/escalation"). Runs the seeded task
// stream of escalation_stream.hpp through the learned matrix and through
// the baselines, and prints, on the held-out last quarter of the stream,
// the share of silently wrong answers each catches at 10%, 20% and 30%
// escalation; then the escalation rate the matrix needs for 80% caught as
// its outcomes accumulate, beside the confidence threshold's. Medians over
// seeds. --svg PATH writes the curve as a plot; --png PATH also renders it
// with headless chromium.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/escalation/matrix.hpp"
#include "endure/actors/escalation/metrics.hpp"
#include "escalation_reopen.hpp"
#include "escalation_stream.hpp"

using namespace endure;
using namespace endure::escalation;

namespace {

constexpr double budgets[] = {0.10, 0.20, 0.30};
constexpr std::size_t window = 500;  ///< tasks per point of the learning curve

/// What one method assigned to each task: higher = escalate first.
using scores = std::vector<double>;

struct seed_result {
  std::vector<std::pair<std::string, scores>> methods;  ///< held-out part
  std::vector<bool> held_errors;
  double online_rate = 0, online_caught = 0;  ///< the matrix's own decisions, held out
  double decide_us = 0;                       ///< CPU per assess+record, median of windows
  struct point {
    std::uint64_t labels = 0;
    double matrix_rate = 0, confidence_rate = 0;
  };
  std::vector<point> curve;
};

std::vector<scored> pair_up(const scores& s, const std::vector<bool>& errors) {
  std::vector<scored> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    out.push_back({s[i], errors[i]});
  return out;
}

/// The smallest escalation rate (whole percent) catching `target` of errors.
double rate_for(const scores& s, const std::vector<bool>& errors, double target) {
  auto cases = pair_up(s, errors);
  for (int pct = 0; pct <= 100; ++pct)
    if (auto c = caught_at(cases, pct / 100.0); c && *c >= target - 1e-12)
      return pct / 100.0;
  return 1;
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// What the matrix said about one task as it went by.
struct observed {
  double score = 0;
  features f;
  bool escalated = false;
  std::uint64_t labels_before = 0;  ///< outcomes it had learned from then
};

matrix_options options_for(std::uint64_t seed, std::size_t neighbours) {
  matrix_options o;
  o.seed = seed;
  o.threshold.mode = threshold_options::kind::budget;
  o.threshold.max_rate = 0.20;  // the 5% exploration slice included
  o.exploration = 0.05;
  o.grey_zone = 0;  // the stream has no sampler: U from confidence and hedging
  o.novelty.neighbours = neighbours;
  o.novelty.search_breadth = std::max<std::size_t>(64, neighbours);
  return o;
}

/// Runs the stream through a matrix as deployed: it learns only from what
/// it escalated. Stores each task's figures; `cpu_us` gets the CPU per
/// decision, median of windows.
std::vector<observed> run_matrix(const std::vector<bench::stream_task>& stream,
                                 const matrix_options& o, double& cpu_us) {
  matrix m(o);
  std::vector<observed> out;
  std::vector<double> window_cpu;
  double cpu_start = cpu_seconds();
  for (auto& t : stream) {
    proposal p;
    p.task_type = t.task_type;
    p.input = t.input;
    p.action = "answer";
    p.confidence = t.confidence;
    p.reasoning = t.reasoning;
    auto a = m.assess(p);
    if (!a) {
      std::fprintf(stderr, "escalation bench: %s\n", a.error().to_string().c_str());
      std::exit(1);
    }
    bool escalated = a->decision == decision::escalate;
    out.push_back({a->score, a->features, escalated, m.labels()});
    if (escalated)
      m.record({t.task_type, a->features, a->score, a->decision, a->propensity, t.confidence,
                t.error ? 1.0 : 0.0});
    if ((t.index + 1) % window == 0) {
      double now = cpu_seconds();
      window_cpu.push_back((now - cpu_start) / window * 1e6);
      cpu_start = now;
    }
  }
  cpu_us = bench::median(window_cpu);
  return out;
}

seed_result run_seed(std::uint64_t seed, std::size_t tasks, std::size_t neighbours) {
  auto stream = bench::make_task_stream({seed, tasks});
  seed_result r;
  auto seen = run_matrix(stream, options_for(seed, neighbours), r.decide_us);
  auto method = [&](std::size_t from, std::size_t to, auto score_of) {
    scores out;
    for (auto i = from; i < to; ++i)
      out.push_back(score_of(stream[i], seen[i]));
    return out;
  };
  auto errors_in = [&](std::size_t from, std::size_t to) {
    std::vector<bool> out;
    for (auto i = from; i < to; ++i)
      out.push_back(stream[i].error);
    return out;
  };
  auto learned = [](const bench::stream_task&, const observed& o) { return o.score; };
  auto confidence = [](const bench::stream_task& t, const observed&) { return 1 - t.confidence; };

  // The held-out last quarter: every method ranks the same tasks.
  std::size_t held = tasks - tasks / 4;
  r.held_errors = errors_in(held, tasks);
  std::mt19937_64 rng(seed * 7919);
  std::uniform_real_distribution<double> uniform(0, 1);
  auto random = [&](const bench::stream_task&, const observed&) { return uniform(rng); };
  auto policy = [&](const bench::stream_task& t, const observed&) {
    return (bench::policy_gates(t.task_type) ? 1.0 : 0.0) + 0.5 * uniform(rng);
  };
  r.methods = {
    {"random at the same rate", method(held, tasks, random)},
    {"fixed policy (gate legal/*), filled at random", method(held, tasks, policy)},
    {"confidence threshold only", method(held, tasks, confidence)},
    {"uncertainty input alone (U)",
     method(held, tasks, [](auto&, const observed& o) { return o.f.uncertainty; })},
    {"novelty input alone (N)",
     method(held, tasks, [](auto&, const observed& o) { return o.f.novelty; })},
    {"benefit input alone (B)",
     method(held, tasks, [](auto&, const observed& o) { return o.f.benefit; })},
    {"learned matrix", method(held, tasks, learned)},
    {"the hidden risk the truth was drawn from (not a ceiling)",
     method(held, tasks, [](const bench::stream_task& t, auto&) { return t.risk; })}};

  // The matrix's own decisions on the held-out part.
  std::size_t escalated = 0, caught = 0, errors = 0;
  for (auto i = held; i < tasks; ++i) {
    escalated += seen[i].escalated;
    errors += stream[i].error;
    caught += stream[i].error && seen[i].escalated;
  }
  r.online_rate = static_cast<double>(escalated) / static_cast<double>(tasks - held);
  r.online_caught = errors ? static_cast<double>(caught) / static_cast<double>(errors) : 0;

  // The learning curve over the whole stream, window by window.
  for (std::size_t from = 0; from + window <= tasks; from += window) {
    auto errs = errors_in(from, from + window);
    r.curve.push_back({seen[from].labels_before,
                       rate_for(method(from, from + window, learned), errs, 0.8),
                       rate_for(method(from, from + window, confidence), errs, 0.8)});
  }
  return r;
}

void write_svg(const std::string& path, const std::vector<seed_result::point>& curve) {
  const double w = 720, h = 420, left = 70, right = 20, top = 40, bottom = 60;
  double max_labels = 1;
  for (auto& p : curve)
    max_labels = std::max(max_labels, static_cast<double>(p.labels));
  auto x = [&](double labels) { return left + (w - left - right) * labels / max_labels; };
  auto y = [&](double rate) { return top + (h - top - bottom) * (1 - rate); };
  std::ofstream out(path);
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
      << "' font-family='sans-serif' font-size='13'>\n<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='" << left << "' y='22' font-size='15'>Escalation rate needed to catch 80% of "
         "silent errors (windows of " << window << " tasks)</text>\n";
  for (int i = 0; i <= 5; ++i) {
    double rate = i / 5.0;
    out << "<line x1='" << left << "' x2='" << w - right << "' y1='" << y(rate) << "' y2='"
        << y(rate) << "' stroke='#ddd'/><text x='" << left - 8 << "' y='" << y(rate) + 4
        << "' text-anchor='end'>" << static_cast<int>(rate * 100) << "%</text>\n";
  }
  out << "<text x='" << (left + w - right) / 2 << "' y='" << h - 15
      << "' text-anchor='middle'>outcomes the matrix has learned from</text>\n";
  for (int i = 0; i <= 4; ++i) {
    double labels = max_labels * i / 4;
    out << "<text x='" << x(labels) << "' y='" << h - bottom + 18 << "' text-anchor='middle'>"
        << static_cast<long>(labels) << "</text>\n";
  }
  auto line = [&](auto rate_of, const char* colour, const char* name, double ly) {
    out << "<polyline fill='none' stroke='" << colour << "' stroke-width='2.5' points='";
    for (auto& p : curve)
      out << x(static_cast<double>(p.labels)) << ',' << y(rate_of(p)) << ' ';
    out << "'/>\n<line x1='" << w - 250 << "' x2='" << w - 220 << "' y1='" << ly << "' y2='" << ly
        << "' stroke='" << colour << "' stroke-width='2.5'/><text x='" << w - 212 << "' y='"
        << ly + 4 << "'>" << name << "</text>\n";
  };
  line([](auto& p) { return p.confidence_rate; }, "#c0392b", "confidence threshold only", 60);
  line([](auto& p) { return p.matrix_rate; }, "#2471a3", "learned matrix", 80);
  out << "</svg>\n";
}

/// --scale N: N stored inputs of one task type; query latency, save and
/// load of the graph (the store's catch-up is not part of it yet).
int run_scale(std::size_t n) {
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::duration d) { return std::chrono::duration<double>(d).count(); };
  novelty_index index;
  auto text = [](std::size_t i) {
    return "refund request order " + std::to_string(i * 2654435761u % 1000003) + " item " +
           std::to_string(i % 977) + " customer " + std::to_string(i % 7919);
  };
  auto t0 = clock::now();
  for (std::size_t i = 1; i <= n; ++i)
    if (!index.add("refund", hashed_ngram_embedding(text(i)), i)) return 1;
  auto built = secs(clock::now() - t0);
  std::vector<double> query_ms;
  for (std::size_t q = 0; q < 2000; ++q) {
    auto v = hashed_ngram_embedding(text(n + 1 + q * 37));
    auto s = clock::now();
    if (!index.novelty("refund", v)) return 1;
    query_ms.push_back(secs(clock::now() - s) * 1e3);
  }
  auto dir = std::filesystem::temp_directory_path() / ("endure-escalation-scale-" + std::to_string(getpid()));
  auto s0 = clock::now();
  auto saved = index.save(dir);
  if (!saved) return 1;
  auto save_s = secs(clock::now() - s0);
  auto l0 = clock::now();
  novelty_index reopened;
  if (auto ok = reopened.load(dir, *saved); !ok) return 1;
  auto load_s = secs(clock::now() - l0);
  std::filesystem::remove_all(dir);
  std::printf("novelty graph, %zu inputs of one task type (dim 128, k 5): built in %.1f s; "
              "query p50 %.3f ms, p99 %.3f ms (2,000 queries); save %.2f s, load (hash checked) %.2f s\n",
              n, built, bench::quantile(query_ms, 0.5), bench::quantile(query_ms, 0.99), save_s, load_s);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t seeds = 5, tasks = 8000, neighbours = 5;
  std::uint64_t first_seed = 1;
  std::string svg, png;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "escalation bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") seeds = std::stoul(next());
    else if (a == "--first-seed") first_seed = std::stoull(next());
    else if (a == "--tasks") tasks = std::stoul(next());
    else if (a == "--neighbours") neighbours = std::stoul(next());
    else if (a == "--scale") return run_scale(std::stoul(next()));
    else if (a == "--reopen") return bench::run_reopen(std::stoul(next()));
    else if (a == "--svg") svg = next();
    else if (a == "--png") png = next();
    else {
      std::fprintf(stderr, "usage: escalation [--seeds N] [--first-seed S] [--tasks N] [--neighbours K] [--scale N] [--reopen N] [--svg PATH] [--png PATH]\n");
      return 2;
    }
  }
  std::vector<seed_result> results;
  for (std::uint64_t s = first_seed; s < first_seed + seeds; ++s)
    results.push_back(run_seed(s, tasks, neighbours));

  auto caught_median = [&](std::size_t method, double rate) {
    std::vector<double> v;
    for (auto& r : results) {
      auto cases = pair_up(r.methods[method].second, r.held_errors);
      v.push_back(caught_at(cases, rate).value_or(0));
    }
    return bench::median(v);
  };
  std::printf("bench/escalation: %zu seeds x %zu tasks, held out: the last quarter; medians over seeds\n\n",
              seeds, tasks);
  std::printf("| method | caught at 10%% | at 20%% | at 30%% |\n|---|---|---|---|\n");
  std::printf("| never escalate | 0.000 | 0.000 | 0.000 |\n");
  std::printf("| always escalate (100%% escalated) | 1.000 | 1.000 | 1.000 |\n");
  for (std::size_t m = 0; m < results[0].methods.size(); ++m)
    std::printf("| %s | %.3f | %.3f | %.3f |\n", results[0].methods[m].first.c_str(),
                caught_median(m, budgets[0]), caught_median(m, budgets[1]),
                caught_median(m, budgets[2]));
  std::vector<double> rate, caught, us, err_rate;
  for (auto& r : results) {
    rate.push_back(r.online_rate);
    caught.push_back(r.online_caught);
    us.push_back(r.decide_us);
    err_rate.push_back(static_cast<double>(std::count(r.held_errors.begin(), r.held_errors.end(), true)) /
                       static_cast<double>(r.held_errors.size()));
  }
  std::printf("\nheld-out error rate %.3f; the matrix's own online decisions (budget 20%%, 5%% "
              "exploration inside it): %.1f%% escalated, %.3f of errors caught\n",
              bench::median(err_rate), 100 * bench::median(rate), bench::median(caught));
  std::printf("CPU per decision (assess + record, the novelty graph included): %.1f us median\n\n",
              bench::median(us));

  std::printf("| window | outcomes learned from | rate for 80%% caught: matrix | confidence only |\n"
              "|---|---|---|---|\n");
  std::vector<seed_result::point> curve;
  for (std::size_t w = 0; w < results[0].curve.size(); ++w) {
    std::vector<double> labels, mr, cr;
    for (auto& r : results) {
      labels.push_back(static_cast<double>(r.curve[w].labels));
      mr.push_back(r.curve[w].matrix_rate);
      cr.push_back(r.curve[w].confidence_rate);
    }
    seed_result::point p{static_cast<std::uint64_t>(bench::median(labels)), bench::median(mr),
                         bench::median(cr)};
    curve.push_back(p);
    std::printf("| %zu-%zu | %llu | %.0f%% | %.0f%% |\n", w * window, (w + 1) * window,
                static_cast<unsigned long long>(p.labels), 100 * p.matrix_rate,
                100 * p.confidence_rate);
  }
  if (!png.empty() && svg.empty())
    svg = png + ".svg";
  if (!svg.empty()) {
    write_svg(svg, curve);
    std::printf("\nplot: %s\n", svg.c_str());
  }
  if (!png.empty()) {
    auto cmd = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
               "--window-size=720,420 --screenshot=" + png + " file://" +
               std::filesystem::absolute(svg).string() + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "escalation bench: chromium could not render %s\n", png.c_str());
      return 1;
    }
    std::printf("plot: %s\n", png.c_str());
  }
}
