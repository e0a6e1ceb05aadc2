// PSS readings (see pss.hpp).
#include "bench/pss.hpp"

#include <algorithm>
#include <fstream>
#include <string>

namespace endure::bench {

long pss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/smaps_rollup"};
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "Pss:" && in >> value)
      return value;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

pss_sampler::pss_sampler(pid_t pid, std::chrono::milliseconds period)
  : thread_{[this, pid, period] {
      while (!stop_) {
        peak_ = std::max(peak_.load(), pss_kib(pid));
        std::this_thread::sleep_for(period);
      }
    }} {}

pss_sampler::~pss_sampler() {
  stop_ = true;
  thread_.join();
}

} // namespace endure::bench
