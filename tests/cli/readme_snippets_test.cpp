// The README's C++ snippets are copied from compiled examples: every ```cpp
// block of README.md must occur, line for line, in a source file under
// examples/ (at any one indentation, as code inside a function is
// indented there and not in the README). So a change to the API that
// breaks an example breaks the build, and a README that drifts from the
// examples breaks this test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The bodies of the ```cpp blocks of a Markdown text.
std::vector<std::vector<std::string>> cpp_blocks(const std::string& markdown) {
  std::vector<std::vector<std::string>> blocks;
  bool inside = false;
  for (auto& line : lines_of(markdown)) {
    if (!inside && line == "```cpp") {
      inside = true;
      blocks.emplace_back();
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
    } else if (inside) {
      blocks.back().push_back(line);
    }
  }
  return blocks;
}

/// True if `block` occurs as consecutive lines of `file`, each prefixed by
/// the same indentation (empty lines match empty lines).
bool occurs_in(const std::vector<std::string>& block, const std::vector<std::string>& file) {
  for (std::size_t start = 0; start + block.size() <= file.size(); ++start) {
    auto& first = file[start];
    if (first.size() < block[0].size()
        || first.compare(first.size() - block[0].size(), block[0].size(), block[0]) != 0)
      continue;
    auto indent = first.substr(0, first.size() - block[0].size());
    if (indent.find_first_not_of(' ') != std::string::npos)
      continue;
    bool all = true;
    for (std::size_t k = 1; k < block.size() && all; ++k)
      all = block[k].empty() ? file[start + k].empty() : file[start + k] == indent + block[k];
    if (all)
      return true;
  }
  return false;
}

} // namespace

SCENARIO("every C++ snippet of README.md is text of a compiled example", "[cli][readme]") {
  const fs::path root = ENDURE_SOURCE_DIR;
  auto blocks = cpp_blocks(read_file(root / "README.md"));
  std::vector<std::pair<std::string, std::vector<std::string>>> examples;
  for (auto& entry : fs::recursive_directory_iterator(root / "examples")) {
    auto ext = entry.path().extension();
    if (ext == ".cpp" || ext == ".hpp")
      examples.emplace_back(entry.path().string(), lines_of(read_file(entry.path())));
  }
  REQUIRE(examples.size() >= 3);
  REQUIRE(blocks.size() >= 3);  // What you write, Embedding the runtime, LLM and HTTP steps
  for (auto& block : blocks) {
    REQUIRE_FALSE(block.empty());
    INFO("README block starting: " << block.front());
    bool found = false;
    for (auto& [path, lines] : examples)
      found = found || occurs_in(block, lines);
    CHECK(found);
  }
}

SCENARIO("the snippet check finds a block only where it really is", "[cli][readme]") {
  std::vector<std::string> file{"int main() {", "  int a = 1;", "", "  return a;", "}"};
  CHECK(occurs_in({"int a = 1;", "", "return a;"}, file));
  CHECK(occurs_in({"int main() {", "  int a = 1;"}, file));
  CHECK_FALSE(occurs_in({"int a = 2;", "", "return a;"}, file));
  CHECK_FALSE(occurs_in({"int a = 1;", "return a;"}, file));   // the blank line is missing
  CHECK_FALSE(occurs_in({"int a = 1;", "  return a;"}, file));  // not one indentation
  CHECK(cpp_blocks("x\n```cpp\na\nb\n```\n```sh\nc\n```\n```cpp\nd\n```\n")
        == std::vector<std::vector<std::string>>{{"a", "b"}, {"d"}});
}
