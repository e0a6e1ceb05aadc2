// Lower-case words of a text, the one tokenizer of the escalation inputs
// (hedging cues, the hashed n-gram embedder): runs of ASCII letters,
// digits and apostrophes, and of UTF-8 bytes (>= 0x80, so non-English
// words stay whole); everything else separates. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace endure::escalation::detail {

std::vector<std::string> lower_words(std::string_view text);

} // namespace endure::escalation::detail
