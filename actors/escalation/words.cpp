// The tokenizer of detail/words.hpp.
#include "endure/actors/escalation/detail/words.hpp"

#include <cctype>

namespace endure::escalation::detail {

std::vector<std::string> lower_words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '\'' || c >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(c)));
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty())
    out.push_back(std::move(word));
  return out;
}

} // namespace endure::escalation::detail
