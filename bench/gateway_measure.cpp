// The measurements of bench/gateway (gateway_measure.hpp). Result lines
// come back through the children's stdout.
#include "bench/gateway_measure.hpp"

#include <stdexcept>

#include "bench/bench_support.hpp"
#include "bench/child_results.hpp"
#include "bench/gateway_child.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/request_rows.hpp"
#include "support/child_process.hpp"

#ifndef ENDURE_BIN_PATH
#error "ENDURE_BIN_PATH must name the endure CLI binary (bench/CMakeLists.txt)"
#endif

namespace endure::bench {

namespace {

using test::child_process;
using namespace std::chrono_literals;

std::string data_of(const std::string& dir) { return dir + "/data"; }

} // namespace

resume_figures measure_resume(const std::string& dir, const std::string& mode,
                              std::size_t samples, bool passivated) {
  auto scenario = passivated ? "resume_passivated" : "resume";
  child_process child{gateway_child_argv({scenario, data_of(dir), mode, samples, 0})};
  auto line = result_line(child, std::string{scenario} + " ");
  child.wait(1min);
  return {field(line, "p50_us"),        field(line, "p99_us"),
          field(line, "decide_p50_us"), field(line, "floor_p50_us"),
          field(line, "floor_p99_us"),  field(line, "commits_p50"),
          field(line, "commits_max"),   static_cast<int>(field(line, "bad"))};
}

populate_figures measure_populate(const std::string& dir, const std::string& mode,
                                  std::size_t runs) {
  child_process child{gateway_child_argv({"populate", data_of(dir), mode, runs, 0})};
  pss_sampler sampler{child.pid()};
  auto line = result_line(child, "populate");
  int rc = child.wait(10min);
  populate_figures f;
  f.peak_pss_mib = sampler.stop();
  f.seconds = field(line, "seconds");
  f.zero_pss_mib = field(line, "pss_at_zero_kib") / 1024.0;
  f.rest_pss_mib = field(line, "pss_kib") / 1024.0;
  f.rest_anon_mib = field(line, "anon_kib") / 1024.0;
  f.rest_file_mib = field(line, "file_kib") / 1024.0;
  f.pending = field(line, "pending");
  f.bad = rc != 0 || field(line, "live") != 0 || f.pending != static_cast<double>(runs);
  return f;
}

inbox_figures measure_inbox(const std::string& dir, int times) {
  inbox_figures f;
  std::vector<double> fn_ms, cli_ms;
  for (int i = 0; i < times; ++i) {
    auto t0 = bench_clock::now();
    auto j = cli::open_journal_view(data_of(dir));
    if (!j)
      throw std::runtime_error(j.error().message);
    auto page = cli::read_inbox(**j, {});
    fn_ms.push_back(seconds_since(t0) * 1e3);
    if (!page)
      throw std::runtime_error(page.error().message);
    f.shown = static_cast<double>(page->requests.size());
    f.total = static_cast<double>(page->total);
  }
  for (int i = 0; i < times; ++i) {
    auto t0 = bench_clock::now();
    auto [rc, out] = test::run_command({ENDURE_BIN_PATH, "inbox", "--data", data_of(dir)}, 1min);
    cli_ms.push_back(seconds_since(t0) * 1e3);
    f.bad += rc != 0 || out.find("more (--limit)") == std::string::npos;
  }
  f.function_ms = median(fn_ms);
  f.cli_ms = median(cli_ms);
  return f;
}

restart_figures measure_restart(const std::string& dir, const std::string& mode,
                                std::size_t decide) {
  child_process child{gateway_child_argv({"restart", data_of(dir), mode, 0, decide})};
  auto line = result_line(child, "restart");
  int rc = child.wait(2min);
  return {field(line, "open_s"),
          field(line, "first_s"),
          field(line, "ready_s"),
          field(line, "pss_ready_kib") / 1024.0,
          field(line, "pss_kib") / 1024.0,
          field(line, "anon_kib") / 1024.0,
          field(line, "file_kib") / 1024.0,
          rc != 0 || field(line, "bad") != 0};
}

} // namespace endure::bench
