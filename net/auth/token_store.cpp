// token_store: the in-memory copy of DATA_DIR/tokens.json behind a mutex,
// token generation (OpenSSL RAND_bytes) and constant-time authentication.
#include "endure/net/auth/token_store.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <chrono>
#include <mutex>

#include "endure/net/auth/detail/token_file.hpp"
#include "endure/net/sha256.hpp"

namespace endure::net::auth {

namespace {

constexpr std::string_view token_prefix = "endure_";
constexpr std::size_t token_random_bytes = 32;
constexpr std::size_t token_body_chars = 43; // base64url of 32 bytes, no padding
constexpr std::size_t max_name_bytes = 200;

error unauthenticated() {
  return make_error(errc::permission_denied, "unknown or revoked token");
}

std::string base64url(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(digits[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0)
    out.push_back(digits[(acc << (6 - bits)) & 0x3f]);
  return out;
}

bool looks_like_token(std::string_view t) {
  if (t.size() != token_prefix.size() + token_body_chars || !t.starts_with(token_prefix))
    return false;
  for (char c : t.substr(token_prefix.size()))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return false;
  return true;
}

expected<std::string> new_token() {
  std::array<unsigned char, token_random_bytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return make_error(errc::io_error, "OpenSSL RAND_bytes failed: no token was made");
  auto text = std::string{token_prefix} + base64url(bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return text;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Length of the UTF-8 sequence starting at s[i] (a valid, shortest form, not
// a surrogate), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t& cp) {
  auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  cp = n == 1 ? b : b & (0x7f >> n);
  for (std::size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2)
      return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  static constexpr std::uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

} // namespace

// -- roles ---------------------------------------------------------------------

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::viewer:
      return "viewer";
    case role::approver:
      return "approver";
    case role::admin:
      return "admin";
  }
  return "unknown";
}

std::optional<role> parse_role(std::string_view text) noexcept {
  for (auto r : {role::viewer, role::approver, role::admin})
    if (text == to_string(r))
      return r;
  return std::nullopt;
}

bool role_allows(role held, role needed) noexcept {
  return static_cast<int>(held) >= static_cast<int>(needed);
}

expected<void> check_principal_name(std::string_view name) {
  auto refuse = [](std::string why) {
    return make_error(errc::invalid_argument, "principal name " + why);
  };
  if (name.empty())
    return refuse("is empty: give 1 to 200 bytes of printable UTF-8");
  if (name.size() > max_name_bytes)
    return refuse("is " + std::to_string(name.size()) + " bytes long: the limit is 200");
  for (std::size_t i = 0; i < name.size();) {
    std::uint32_t cp = 0;
    auto n = utf8_length(name, i, cp);
    if (n == 0)
      return refuse("is not valid UTF-8 (byte " + std::to_string(i) + ")");
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
      return refuse("contains a control character (byte " + std::to_string(i) + ")");
    i += n;
  }
  return {};
}

// -- the store -----------------------------------------------------------------

struct token_store::state {
  std::filesystem::path file;
  mutable std::mutex mtx;
  std::vector<token_entry> entries;
  std::optional<detail::file_stamp> stamp;
  /// Set by a failed refresh: authenticate refuses with it.
  std::optional<error> failed;

  void adopt(detail::loaded_tokens loaded) {
    entries = std::move(loaded.entries);
    stamp = loaded.stamp;
    failed.reset();
  }

  // Under the writers' lock: the file as it is now, changed by `change`,
  // written back and adopted. `change` returns an error to write nothing.
  template <class F>
  expected<void> rewrite(F&& change) {
    auto lock = detail::writer_lock::take(
      file.has_parent_path() ? file.parent_path() : std::filesystem::path{"."});
    if (!lock)
      return std::move(lock).error();
    auto current = detail::read_tokens_file(file);
    if (!current)
      return std::move(current).error();
    if (auto ok = change(current->entries); !ok)
      return ok;
    if (auto ok = detail::write_tokens_file(file, current->entries); !ok)
      return ok;
    auto stamp_now = detail::stat_tokens_file(file);
    if (!stamp_now)
      return std::move(stamp_now).error();
    current->stamp = *stamp_now;
    std::lock_guard guard{mtx};
    adopt(std::move(*current));
    return {};
  }
};

token_store::token_store(std::unique_ptr<state> s) : state_(std::move(s)) {}
token_store::token_store(token_store&&) noexcept = default;
token_store& token_store::operator=(token_store&&) noexcept = default;
token_store::~token_store() = default;

expected<token_store> token_store::open(std::filesystem::path data_dir) {
  auto s = std::make_unique<state>();
  s->file = std::move(data_dir) / tokens_file_name;
  auto loaded = detail::read_tokens_file(s->file);
  if (!loaded)
    return std::move(loaded).error();
  s->adopt(std::move(*loaded));
  return token_store{std::move(s)};
}

expected<std::string> token_store::create(std::string_view name, role granted) {
  if (auto ok = check_principal_name(name); !ok)
    return std::move(ok).error();
  auto token = new_token();
  if (!token)
    return token;
  auto ok = state_->rewrite([&](std::vector<token_entry>& entries) -> expected<void> {
    for (auto& e : entries)
      if (e.name == name && !e.revoked)
        return make_error(errc::already_exists,
                          "principal '" + e.name + "' already has a token (" +
                            std::string{to_string(e.granted)} +
                            "); revoke it first (endure token revoke " + e.name + ")");
    entries.push_back({std::string{name}, granted, sha256_hex(*token), now_ms(), false});
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return token;
}

expected<void> token_store::revoke(std::string_view name) {
  return state_->rewrite([&](std::vector<token_entry>& entries) -> expected<void> {
    bool known = false;
    bool revoked_one = false;
    for (auto& e : entries) {
      if (e.name != name)
        continue;
      known = true;
      revoked_one = revoked_one || !e.revoked;
      e.revoked = true;
    }
    if (!known)
      return make_error(errc::not_found, "no principal named '" + std::string{name} +
                                           "' (endure token list shows them)");
    if (!revoked_one)
      return make_error(errc::invalid_state,
                        "the token of '" + std::string{name} + "' is already revoked");
    return {};
  });
}

std::vector<token_entry> token_store::list() const {
  std::lock_guard guard{state_->mtx};
  return state_->entries;
}

expected<principal> token_store::authenticate(std::string_view token) const {
  if (!looks_like_token(token))
    return unauthenticated();
  auto presented = sha256_hex(token);
  std::lock_guard guard{state_->mtx};
  if (state_->failed)
    return *state_->failed;
  // Every hash is compared, whatever matched before: the time taken says
  // nothing about which or whether one matched.
  const token_entry* match = nullptr;
  for (auto& e : state_->entries) {
    bool same = CRYPTO_memcmp(presented.data(), e.token_sha256.data(), presented.size()) == 0;
    match = same ? &e : match;
  }
  if (!match || match->revoked)
    return unauthenticated();
  return principal{match->name, match->granted};
}

expected<bool> token_store::refresh() {
  auto now = detail::stat_tokens_file(state_->file);
  if (now) {
    std::lock_guard guard{state_->mtx};
    if (!state_->failed && *now == state_->stamp)
      return false;
  }
  auto loaded = now ? detail::read_tokens_file(state_->file)
                    : expected<detail::loaded_tokens>{std::move(now).error()};
  std::lock_guard guard{state_->mtx};
  if (!loaded) {
    state_->failed = loaded.error();
    return std::move(loaded).error();
  }
  state_->adopt(std::move(*loaded));
  return true;
}

const std::filesystem::path& token_store::file() const noexcept {
  return state_->file;
}

} // namespace endure::net::auth
