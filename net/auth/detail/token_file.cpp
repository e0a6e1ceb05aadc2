// DATA_DIR/tokens.json: read with its checks, rewritten atomically.
#include "endure/net/auth/detail/token_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "endure/persistence/detail/sync_directory.hpp"

namespace endure::net::auth::detail {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr int format_version = 1;

error io_failure(const fs::path& file, const char* what) {
  return make_error(errc::io_error,
                    file.string() + ": " + what + ": " + std::strerror(errno));
}

error damaged(const fs::path& file, const std::string& what) {
  return make_error(errc::corrupt_record,
                    file.string() + ": damaged token file: " + what
                      + " (restore it from a backup, or move it away and create the tokens again)");
}

file_stamp stamp_of(const struct stat& st) {
  return {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino)};
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// One element of "tokens"; `where` is "tokens[3]" for messages.
expected<token_entry> parse_entry(const json& j, const fs::path& file, const std::string& where) {
  if (!j.is_object())
    return damaged(file, where + " is not an object");
  auto field = [&](const char* key, json::value_t type, const char* type_name)
    -> expected<const json*> {
    auto it = j.find(key);
    if (it == j.end())
      return damaged(file, where + " has no \"" + key + "\"");
    bool ok = it->type() == type
              || (type == json::value_t::number_integer && it->is_number_unsigned());
    if (!ok)
      return damaged(file, where + "." + key + " is not " + type_name);
    return &*it;
  };
  auto name = field("name", json::value_t::string, "a string");
  auto granted = field("role", json::value_t::string, "a string");
  auto hash = field("sha256", json::value_t::string, "a string");
  auto created = field("created_ms", json::value_t::number_integer, "an integer");
  auto revoked = field("revoked", json::value_t::boolean, "true or false");
  for (auto* f : {&name, &granted, &hash, &created, &revoked})
    if (!*f)
      return f->error();
  token_entry e;
  e.name = (*name)->get<std::string>();
  if (auto ok = check_principal_name(e.name); !ok)
    return damaged(file, where + ".name: " + ok.error().message);
  auto r = parse_role((*granted)->get<std::string>());
  if (!r)
    return damaged(file, where + ".role is not viewer, approver or admin");
  e.granted = *r;
  e.token_sha256 = (*hash)->get<std::string>();
  if (!is_sha256_hex(e.token_sha256))
    return damaged(file, where + ".sha256 is not 64 lowercase hex digits");
  if ((*created)->is_number_unsigned() && (*created)->get<std::uint64_t>() > INT64_MAX)
    return damaged(file, where + ".created_ms is out of range");
  e.created_ms = (*created)->get<std::int64_t>();
  e.revoked = (*revoked)->get<bool>();
  return e;
}

expected<std::vector<token_entry>> parse_tokens(const std::string& text, const fs::path& file) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded())
    return damaged(file, "not valid JSON (truncated or edited?)");
  if (!doc.is_object())
    return damaged(file, "the top level is not an object");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer())
    return damaged(file, "\"version\" is missing or not an integer");
  if (version->get<std::int64_t>() > format_version)
    return make_error(errc::newer_record_version,
                      file.string() + ": written by a newer endure (format version "
                        + std::to_string(version->get<std::int64_t>()) + ", this one reads "
                        + std::to_string(format_version) + "): upgrade endure");
  if (version->get<std::int64_t>() != format_version)
    return damaged(file, "unknown format version " + std::to_string(version->get<std::int64_t>()));
  auto tokens = doc.find("tokens");
  if (tokens == doc.end() || !tokens->is_array())
    return damaged(file, "\"tokens\" is missing or not an array");
  std::vector<token_entry> out;
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    auto e = parse_entry((*tokens)[i], file, "tokens[" + std::to_string(i) + "]");
    if (!e)
      return std::move(e).error();
    for (auto& seen : out)
      if (seen.token_sha256 == e->token_sha256)
        return damaged(file, "tokens[" + std::to_string(i) + "] repeats the hash of '"
                               + seen.name + "'");
    out.push_back(std::move(*e));
  }
  return out;
}

std::string to_json_text(const std::vector<token_entry>& entries) {
  json tokens = json::array();
  for (auto& e : entries)
    tokens.push_back({{"name", e.name},
                      {"role", std::string{to_string(e.granted)}},
                      {"sha256", e.token_sha256},
                      {"created_ms", e.created_ms},
                      {"revoked", e.revoked}});
  json doc = {{"version", format_version}, {"tokens", std::move(tokens)}};
  return doc.dump(2) + "\n";
}

// Reads all of `fd`; false (errno set) if a read fails.
bool read_all(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n == 0)
      return true;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

fs::path dir_of(const fs::path& file) {
  return file.has_parent_path() ? file.parent_path() : fs::path{"."};
}

} // namespace

expected<std::optional<file_stamp>> stat_tokens_file(const fs::path& file) {
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return std::optional<file_stamp>{};
    return io_failure(file, "stat");
  }
  return std::optional<file_stamp>{stamp_of(st)};
}

expected<loaded_tokens> read_tokens_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return loaded_tokens{};
    return io_failure(file, "open");
  }
  struct stat st{};
  std::string text;
  bool ok = ::fstat(fd, &st) == 0;
  if (!ok) {
    auto err = io_failure(file, "fstat");
    ::close(fd);
    return err;
  }
  // Checked on the descriptor read, not the name: no window between them.
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(errc::invalid_state,
                      file.string() + " has mode " + mode
                        + ": it holds credentials and must be readable by its owner only; run "
                          "chmod 600 " + file.string());
  }
  ok = read_all(fd, text);
  if (!ok) {
    auto err = io_failure(file, "read");
    ::close(fd);
    return err;
  }
  ::close(fd);
  auto entries = parse_tokens(text, file);
  if (!entries)
    return std::move(entries).error();
  return loaded_tokens{std::move(*entries), stamp_of(st)};
}

namespace {

/// Refuses a directory others may write into without the sticky bit: they
/// could swap the tokens file for their own between two requests.
expected<void> check_dir_not_shared(const fs::path& dir) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0)
    return io_failure(dir, "stat");
  bool shared = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0;
  if (!shared)
    return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return make_error(errc::invalid_state,
                    dir.string() + " has mode " + mode + ": others may write into it, so they "
                      "could replace the tokens file; run chmod go-w " + dir.string());
}

} // namespace

expected<void> write_tokens_file(const fs::path& file, const std::vector<token_entry>& entries) {
  auto dir = dir_of(file);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, dir.string() + ": cannot create directory: " + ec.message());
  if (auto safe = check_dir_not_shared(dir); !safe)
    return safe;
  auto tmp = fs::path{file.string() + ".tmp"};
  // A new file every time, never through a link: a tmp file (or a symlink
  // planted in its place) left from before is removed, and O_EXCL |
  // O_NOFOLLOW refuse anything that appears in between, so the credentials
  // are never written into a file someone else chose.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT)
    return io_failure(tmp, "unlink");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_failure(tmp, "open");
  bool ok = ::fchmod(fd, 0600) == 0 && write_all(fd, to_json_text(entries)) && ::fsync(fd) == 0;
  auto err = ok ? error{} : io_failure(tmp, "write");
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = io_failure(tmp, "close");
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    auto failure = io_failure(file, "rename");
    ::unlink(tmp.c_str());
    return failure;
  }
  return sync_directory(dir);
}

expected<writer_lock> writer_lock::take(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, dir.string() + ": cannot create directory: " + ec.message());
  auto path = dir / "tokens.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_failure(path, "open");
  // Writers hold it for one small rewrite: waiting is the right answer.
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR)
      continue;
    auto err = io_failure(path, "flock");
    ::close(fd);
    return err;
  }
  return writer_lock{fd};
}

writer_lock::~writer_lock() {
  if (fd_ >= 0)
    ::close(fd_);
}

} // namespace endure::net::auth::detail
