// A workspace writer for the crash tests (artifact_workspace_test.cpp),
// killed with SIGKILL by the test:
//
//   artifact_workspace_child DIR once        one write-back (key run-1/1),
//                                            "committed ID", then waits
//   artifact_workspace_child DIR loop N      write-backs k1..kN, each
//                                            followed by "committed kI"
#include <cstdio>
#include <iostream>
#include <string>

#include "endure/actors/state/workspace.hpp"

using namespace endure::state;

namespace {

int fail(const endure::error& e) {
  std::fprintf(stderr, "artifact_workspace_child: %s\n", e.to_string().c_str());
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3)
    return 2;
  auto ws = workspace::open_or_init(argv[1]);
  if (!ws)
    return fail(ws.error());
  std::string mode = argv[2];
  if (mode == "once") {
    if (auto w = ws->write_file("notes.md", "session 1\n"); !w)
      return fail(w.error());
    auto done = ws->commit_all("Write back session 1", "run-1/1");
    if (!done)
      return fail(done.error());
    std::cout << "committed " << done->commit << std::endl;
    std::string line;
    std::getline(std::cin, line);  // until the test kills it
    return 0;
  }
  int total = argc > 3 ? std::stoi(argv[3]) : 10;
  for (int i = 1; i <= total; ++i) {
    if (auto w = ws->write_file("counter.txt", std::to_string(i) + "\n"); !w)
      return fail(w.error());
    auto done = ws->commit_all("Write-back " + std::to_string(i), "k" + std::to_string(i));
    if (!done)
      return fail(done.error());
    std::cout << "committed k" << i << std::endl;
  }
  return 0;
}
