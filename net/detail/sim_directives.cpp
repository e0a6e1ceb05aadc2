// The `[sim: ...]` grammar (see net/README.md): a block is "[", "sim",
// ":" (spaces allowed around "sim", any case), directives separated by ";",
// then "]". A directive is a keyword and its words, separated by spaces or
// commas. A block without its "]" is plain text.
#include "endure/net/detail/sim_directives.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace endure::net::detail {

namespace {

/// Largest `parallel N` honoured: more is a typo, not a plan.
constexpr std::size_t max_parallel = 64;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::size_t skip_spaces(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i]))
    ++i;
  return i;
}

/// Where a block opening at `open` (a '[') has its body, or npos.
std::size_t body_start(std::string_view text, std::size_t open) {
  std::size_t i = skip_spaces(text, open + 1);
  if (text.size() - i < 3 || lower(text.substr(i, 3)) != "sim")
    return std::string_view::npos;
  i = skip_spaces(text, i + 3);
  return i < text.size() && text[i] == ':' ? i + 1 : std::string_view::npos;
}

/// Calls `visit(open, body_begin, close)` for each complete block.
template <class Visit>
void for_each_block(std::string_view text, Visit visit) {
  for (std::size_t open = text.find('['); open != std::string_view::npos;
       open = text.find('[', open + 1)) {
    std::size_t begin = body_start(text, open);
    if (begin == std::string_view::npos)
      continue;
    std::size_t close = text.find(']', begin);
    if (close == std::string_view::npos)
      return;
    visit(open, begin, close);
    open = close;
  }
}

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> out;
  std::string word;
  for (char c : s) {
    if (is_space(c) || c == ',') {
      if (!word.empty())
        out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty())
    out.push_back(std::move(word));
  return out;
}

std::optional<std::size_t> count_of(const std::string& word) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
  if (ec != std::errc{} || end != word.data() + word.size() || n < 1 || n > max_parallel)
    return std::nullopt;
  return n;
}

std::optional<double> fraction_of(const std::string& word) {
  double x = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), x);
  if (ec != std::errc{} || end != word.data() + word.size() || !std::isfinite(x) || x < 0.0 ||
      x > 1.0)
    return std::nullopt;
  return x;
}

void apply(std::string_view directive, sim_directives& into) {
  auto words = words_of(directive);
  if (words.empty())
    return;
  std::string keyword = lower(words.front());
  std::replace(keyword.begin(), keyword.end(), '-', '_');
  std::vector<std::string> rest(words.begin() + 1, words.end());
  if (keyword == "call" && !rest.empty())
    into.call = std::move(rest);
  else if (keyword == "no_tools" || (keyword == "no" && !rest.empty() && lower(rest[0]) == "tools"))
    into.no_tools = true;
  else if (keyword == "bad_args")
    into.bad_args.insert(into.bad_args.end(), rest.begin(), rest.end());
  else if (keyword == "unknown_tool")
    into.unknown_tool = true;
  else if (keyword == "parallel" && rest.size() == 1) {
    if (auto n = count_of(rest[0]))
      into.parallel = n;
  } else if (keyword == "confidence" && rest.size() == 1) {
    if (auto x = fraction_of(rest[0]))
      into.confidence = x;
  }
  // Anything else is not a directive the sim knows: ignored by design.
}

} // namespace

void read_sim_directives(std::string_view text, sim_directives& into) {
  for_each_block(text, [&](std::size_t, std::size_t begin, std::size_t close) {
    std::string_view body = text.substr(begin, close - begin);
    for (std::size_t from = 0; from <= body.size();) {
      std::size_t end = std::min(body.find(';', from), body.size());
      apply(body.substr(from, end - from), into);
      from = end + 1;
    }
  });
}

sim_directives sim_directives_of(const chat_request& request) {
  sim_directives out;
  for (const auto& m : request.messages)
    if (m.role == chat_role::system || m.role == chat_role::user)
      read_sim_directives(m.content, out);
  return out;
}

std::string strip_sim_directives(std::string_view text) {
  std::string out;
  std::size_t kept = 0;
  for_each_block(text, [&](std::size_t open, std::size_t, std::size_t close) {
    out.append(text.substr(kept, open - kept));
    kept = close + 1;
  });
  out.append(text.substr(kept));
  return out;
}

} // namespace endure::net::detail
