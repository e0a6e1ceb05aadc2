// How many tokens a text or a prompt is estimated to take: characters / 4,
// rounded up, 4 more per message. One estimate for everything that counts
// tokens before a model does: the sim's context window and usage, the
// agent loop's context budget and the context assembler, so a budget that
// the assembler met is the budget the loop and the sim see. Real
// tokenizers differ by model; the estimate errs towards more tokens for
// English prose (about 4.5 characters per token with GPT-class models).
#pragma once

#include <cstdint>
#include <string_view>

namespace endure::net {

struct chat_request;

/// ceil(size / 4).
inline std::uint64_t estimate_tokens(std::string_view text) noexcept {
  return (text.size() + 3) / 4;
}

/// Every message's content (+4), tool calls' names and arguments, and the
/// offered tools' names, descriptions and schemas.
std::uint64_t estimate_prompt_tokens(const chat_request& request) noexcept;

} // namespace endure::net
