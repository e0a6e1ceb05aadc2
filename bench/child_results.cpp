// Result lines and PSS samples of measured children (child_results.hpp).
#include "bench/child_results.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>

#include "bench/bench_support.hpp"

namespace endure::bench {

using namespace std::chrono_literals;

double field(const std::string& line, const std::string& key) {
  std::istringstream in{line};
  std::string word;
  in >> word;  // scenario
  while (in >> word) {
    double v = 0;
    if (!(in >> v))
      break;
    if (word == key)
      return v;
  }
  throw std::runtime_error("child result '" + line + "' has no " + key);
}

std::string result_line(test::child_process& child, const std::string& scenario) {
  for (;;) {
    auto line = child.read_line(10min);
    if (!line)
      throw std::runtime_error(scenario + " child gave no result");
    if (line->rfind(scenario, 0) == 0)
      return *line;
  }
}

pss_sampler::pss_sampler(pid_t pid)
    : thread_{[this, pid] {
        while (!stop_) {
          std::this_thread::sleep_for(200ms);
          peak_ = std::max(peak_.load(), pss_kib(std::to_string(pid)));
        }
      }} {}

double pss_sampler::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  return static_cast<double>(peak_) / 1024.0;
}

} // namespace endure::bench
