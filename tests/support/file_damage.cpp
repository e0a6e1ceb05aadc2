#include "support/file_damage.hpp"

#include <fstream>
#include <iterator>

namespace endure::test {

std::size_t flip_bit_near(const std::string& file, const std::string& marker, long offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::size_t hits = 0;
  for (auto pos = data.find(marker); pos != std::string::npos; pos = data.find(marker, pos + 1)) {
    auto target = static_cast<std::size_t>(static_cast<long>(pos) + offset);
    f.seekp(static_cast<std::streamoff>(target));
    f.put(static_cast<char>(data[target] ^ 0x01));
    ++hits;
  }
  return hits;
}

} // namespace endure::test
