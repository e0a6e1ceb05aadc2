// run_program: `timeout N program args... 2>file` through popen.
#include "cli/cli_runner.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/temp_dir.hpp"

namespace endure::test {

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

} // namespace

cli_result run_endure(const std::vector<std::string>& args, std::chrono::seconds limit,
                      const std::string& input) {
  return run_program(ENDURE_BIN_PATH, args, limit, input);
}

cli_result run_program(const std::string& program, const std::vector<std::string>& args,
                       std::chrono::seconds limit, const std::string& input) {
  temp_dir dir;
  std::ofstream(dir.file("stdin"), std::ios::binary) << input;
  std::string cmd = "timeout -s KILL " + std::to_string(limit.count()) + " " + quote(program);
  for (auto& a : args)
    cmd += " " + quote(a);
  cmd += " <" + quote(dir.file("stdin")) + " 2>" + quote(dir.file("stderr"));
  cli_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p)
    return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(dir.file("stderr"));
  std::stringstream ss;
  ss << err.rdbuf();
  r.err = ss.str();
  return r;
}

} // namespace endure::test
