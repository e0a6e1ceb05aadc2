// A task's git workspace over libgit2 (workspace.hpp).
#include "endure/actors/state/workspace.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <system_error>

#include <git2.h>

namespace endure::state {

namespace fs = std::filesystem;

namespace {

/// libgit2's global state: initialized once, when the first workspace
/// opens, and kept for the life of the process. A shutdown when the last
/// workspace closes would tear it down, and the next open would pay 4-9 ms
/// to build it again: a session opens its workspace at every wake-up.
struct library_ref {
  library_ref() {
    static std::once_flag once;
    std::call_once(once, [] {
      git_libgit2_init();
      // Objects, refs and the index are fsynced before a commit returns: a
      // write-back the journal records must be on disk.
      git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    });
  }
};

/// libgit2's last error as an endure::error naming `where`.
error git_failure(const std::string& where, int rc) {
  const git_error* e = git_error_last();
  std::string why = e && e->message ? e->message : "libgit2 error " + std::to_string(rc);
  return make_error(rc == GIT_ENOTFOUND ? errc::not_found : errc::io_error, where + ": " + why);
}

template <class T, void (*Free)(T*)>
struct git_ptr {
  T* p = nullptr;
  git_ptr() = default;
  git_ptr(const git_ptr&) = delete;
  git_ptr& operator=(const git_ptr&) = delete;
  ~git_ptr() {
    if (p)
      Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};

using index_ptr = git_ptr<git_index, git_index_free>;
using tree_ptr = git_ptr<git_tree, git_tree_free>;
using commit_ptr = git_ptr<git_commit, git_commit_free>;
using signature_ptr = git_ptr<git_signature, git_signature_free>;
using revwalk_ptr = git_ptr<git_revwalk, git_revwalk_free>;
using status_ptr = git_ptr<git_status_list, git_status_list_free>;

std::string hex(const git_oid& id) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &id);
  return buf;
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The write-back key a commit message carries ("" if none).
std::string key_of(const char* message) {
  git_message_trailer_array trailers{};
  if (!message || git_message_trailers(&trailers, message) != 0)
    return {};
  std::string key;
  for (std::size_t i = 0; i < trailers.count; ++i)
    if (write_back_trailer == trailers.trailers[i].key)
      key = trailers.trailers[i].value;
  git_message_trailer_array_free(&trailers);
  return key;
}

/// Removes the lock files a process killed mid-commit leaves behind; with
/// them every later commit fails ("failed to lock file"). Safe because a
/// workspace has one writer (workspace.hpp).
void remove_stale_locks(const fs::path& git_dir) {
  std::error_code ec;
  for (auto name : {"index.lock", "HEAD.lock", "packed-refs.lock", "config.lock"})
    fs::remove(git_dir / name, ec);
  fs::recursive_directory_iterator it(git_dir / "refs", ec), end;
  for (; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".lock")
      fs::remove(it->path(), ec);
}

std::string os_error(const std::string& where, int err) {
  return where + ": " + std::strerror(err);
}

} // namespace

struct workspace::repo {
  library_ref lib;
  git_repository* r = nullptr;
  fs::path root;  ///< canonical directory, for the escape checks
  ~repo() {
    if (r)
      git_repository_free(r);
  }
};

namespace {

/// Splits and checks a relative path; returns its absolute form. Refuses
/// what would leave the workspace or touch .git, symlinks included.
expected<fs::path> inside(const fs::path& root, std::string_view rel) {
  auto refuse = [&](std::string why) {
    return make_error(errc::invalid_argument,
                      "workspace " + root.string() + ": path '" + std::string{rel} + "' " + why);
  };
  if (rel.empty())
    return refuse("is empty");
  if (rel.front() == '/')
    return refuse("is absolute; paths are relative to the workspace");
  if (rel.find('\0') != std::string_view::npos)
    return refuse("contains a NUL byte");
  std::size_t start = 0;
  while (start <= rel.size()) {
    auto end = std::min(rel.find('/', start), rel.size());
    auto part = rel.substr(start, end - start);
    if (part.empty())
      return refuse("has an empty component");
    if (part == "." || part == "..")
      return refuse("has a '" + std::string{part} + "' component");
    if (lower(part) == ".git")
      return refuse("names .git, which only git writes");
    start = end + 1;
  }
  auto full = root / fs::path{std::string{rel}};
  std::error_code ec;
  auto resolved = fs::weakly_canonical(full, ec);
  if (ec)
    return make_error(errc::io_error, "workspace " + root.string() + ": path '"
                                        + std::string{rel} + "': " + ec.message());
  // weakly_canonical stops at a symlink whose target does not exist, so
  // one leading outside would pass; writing through it would create its
  // target, wherever that is.
  if (fs::is_symlink(fs::symlink_status(full, ec)) && !fs::exists(full, ec))
    return refuse("is a symlink to nothing (" + fs::read_symlink(full, ec).string() + ")");
  auto within = resolved.lexically_relative(root);
  if (within.empty() || within == "." || *within.begin() == "..")
    return refuse("leads outside the workspace through a symlink (to " + resolved.string() + ")");
  if (lower(within.begin()->string()) == ".git")
    return refuse("leads into .git through a symlink");
  return full;
}

expected<git_oid> head_id(git_repository* r, const fs::path& dir) {
  git_oid id;
  if (int rc = git_reference_name_to_id(&id, r, "HEAD"); rc != 0)
    return git_failure("workspace " + dir.string() + ": reading HEAD", rc);
  return id;
}

/// Stages every change of the working tree and writes the index's tree.
expected<git_oid> stage_all(git_repository* r, const fs::path& dir) {
  auto where = "workspace " + dir.string() + ": staging the working tree";
  index_ptr idx;
  if (int rc = git_repository_index(idx.out(), r); rc != 0)
    return git_failure(where, rc);
  // An empty pathspec matches every path; add_all stages new, changed and
  // deleted files alike (libgit2 1.5; "files are changed and removed" in
  // artifact_workspace_test.cpp checks the deletions).
  git_strarray every{nullptr, 0};
  if (int rc = git_index_add_all(idx.get(), &every, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr))
    return git_failure(where, rc);
  if (int rc = git_index_write(idx.get()))
    return git_failure(where, rc);
  git_oid tree;
  if (int rc = git_index_write_tree(&tree, idx.get()))
    return git_failure(where, rc);
  return tree;
}

/// Commits `tree` on HEAD (after `parent`, if any) with `message`.
expected<git_oid> make_commit(git_repository* r, const fs::path& dir,
                              const workspace_options& o, const git_oid& tree_id,
                              const git_commit* parent, const std::string& message) {
  auto where = "workspace " + dir.string() + ": committing";
  tree_ptr tree;
  if (int rc = git_tree_lookup(tree.out(), r, &tree_id))
    return git_failure(where, rc);
  signature_ptr sig;
  if (int rc = git_signature_now(sig.out(), o.author_name.c_str(), o.author_email.c_str()))
    return git_failure(where, rc);
  const git_commit* parents[] = {parent};
  git_oid id;
  if (int rc = git_commit_create(&id, r, "HEAD", sig.get(), sig.get(), nullptr, message.c_str(),
                                 tree.get(), parent ? 1 : 0, parents))
    return git_failure(where, rc);
  return id;
}

expected<git_repository*> open_or_create(const fs::path& dir, const workspace_options& o) {
  auto where = "workspace " + dir.string();
  git_repository* r = nullptr;
  if (fs::exists(dir / ".git"))
    remove_stale_locks(dir / ".git");
  int rc = git_repository_open_ext(&r, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc == 0)
    return r;
  if (rc != GIT_ENOTFOUND)
    return git_failure(where + ": opening the repository", rc);
  git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  init.flags = GIT_REPOSITORY_INIT_MKPATH;
  init.initial_head = o.initial_branch.c_str();
  if (rc = git_repository_init_ext(&r, dir.c_str(), &init); rc != 0)
    return git_failure(where + ": creating the repository", rc);
  return r;
}

} // namespace

workspace::workspace(fs::path dir, std::unique_ptr<repo> r, workspace_options options)
  : dir_(std::move(dir)), repo_(std::move(r)), opts_(std::move(options)) {}
workspace::workspace(workspace&&) noexcept = default;
workspace& workspace::operator=(workspace&&) noexcept = default;
workspace::~workspace() = default;

expected<workspace> workspace::open_or_init(const fs::path& dir, workspace_options options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, "workspace " + dir.string() + ": creating the directory: "
                                        + ec.message());
  auto r = std::make_unique<repo>();
  r->root = fs::canonical(dir, ec);
  if (ec)
    return make_error(errc::io_error, "workspace " + dir.string() + ": " + ec.message());
  auto opened = open_or_create(r->root, options);
  if (!opened)
    return std::move(opened).error();
  r->r = *opened;
  // A repository without commits (new, or a crash cut its creation short)
  // gets its first commit now, so HEAD always names one.
  if (git_repository_head_unborn(r->r) == 1) {
    auto tree = stage_all(r->r, r->root);
    if (!tree)
      return std::move(tree).error();
    auto first = make_commit(r->r, r->root, options, *tree, nullptr, "Workspace created\n");
    if (!first)
      return std::move(first).error();
  }
  auto root = r->root;
  return workspace{std::move(root), std::move(r), std::move(options)};
}

expected<workspace> workspace::open_existing(const fs::path& dir, workspace_options options) {
  auto r = std::make_unique<repo>();
  std::error_code ec;
  r->root = fs::canonical(dir, ec);
  if (ec || !fs::exists(r->root / ".git"))
    return make_error(errc::not_found, "workspace " + dir.string() + ": no git repository there");
  if (int rc = git_repository_open_ext(&r->r, r->root.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                       nullptr))
    return git_failure("workspace " + dir.string() + ": opening the repository", rc);
  auto root = r->root;
  return workspace{std::move(root), std::move(r), std::move(options)};
}

expected<void> workspace::write_file(std::string_view path, std::string_view text) {
  auto full = inside(repo_->root, path);
  if (!full)
    return std::move(full).error();
  auto where = "workspace " + dir_.string() + ": writing '" + std::string{path} + "'";
  std::error_code ec;
  fs::create_directories(full->parent_path(), ec);
  if (ec)
    return make_error(errc::io_error, where + ": " + ec.message());
  std::FILE* f = std::fopen(full->c_str(), "wb");
  if (!f)
    return make_error(errc::io_error, os_error(where, errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  int err = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok)
    return make_error(errc::io_error, os_error(where, err));
  return {};
}

expected<std::string> workspace::read_file(std::string_view path) const {
  auto full = inside(repo_->root, path);
  if (!full)
    return std::move(full).error();
  auto where = "workspace " + dir_.string() + ": reading '" + std::string{path} + "'";
  std::FILE* f = std::fopen(full->c_str(), "rb");
  if (!f)
    return make_error(errno == ENOENT ? errc::not_found : errc::io_error, os_error(where, errno));
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed)
    return make_error(errc::io_error, where + ": the read failed");
  return out;
}

expected<void> workspace::remove_file(std::string_view path) {
  auto full = inside(repo_->root, path);
  if (!full)
    return std::move(full).error();
  std::error_code ec;
  if (!fs::remove(*full, ec))
    return make_error(ec ? errc::io_error : errc::not_found,
                      "workspace " + dir_.string() + ": removing '" + std::string{path} + "': "
                        + (ec ? ec.message() : "no such file"));
  return {};
}

expected<std::vector<std::string>> workspace::list_files() const {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(repo_->root, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it.depth() == 0 && it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec) || it->is_regular_file(ec))
      out.push_back(it->path().lexically_relative(repo_->root).generic_string());
  }
  if (ec)
    return make_error(errc::io_error, "workspace " + dir_.string() + ": listing files: "
                                        + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

expected<bool> workspace::is_clean() const {
  git_status_options o = GIT_STATUS_OPTIONS_INIT;
  o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  status_ptr list;
  if (int rc = git_status_list_new(list.out(), repo_->r, &o))
    return git_failure("workspace " + dir_.string() + ": reading the status", rc);
  return git_status_list_entrycount(list.get()) == 0;
}

expected<write_back_result> workspace::commit_all(std::string_view message, std::string_view key,
                                                  bool allow_empty) {
  auto where = "workspace " + dir_.string() + ": write-back '" + std::string{key} + "'";
  if (message.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return make_error(errc::invalid_argument, where + ": the commit message is empty");
  if (key.empty() || key.size() > 200 || key.find_first_of("\r\n") != std::string_view::npos)
    return make_error(errc::invalid_argument,
                      where + ": the key must be 1 to 200 bytes on one line");
  auto head = head_id(repo_->r, dir_);
  if (!head)
    return std::move(head).error();
  commit_ptr parent;
  if (int rc = git_commit_lookup(parent.out(), repo_->r, &*head))
    return git_failure(where + ": reading HEAD", rc);
  using outcome = write_back_result::outcome;
  if (key_of(git_commit_message(parent.get())) == key)
    return write_back_result{hex(*head), outcome::already_committed};
  auto tree = stage_all(repo_->r, dir_);
  if (!tree)
    return std::move(tree).error();
  if (git_oid_equal(&*tree, git_commit_tree_id(parent.get())) && !allow_empty)
    return write_back_result{hex(*head), outcome::nothing_to_commit};
  std::string text{message};
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  text += "\n\n" + std::string{write_back_trailer} + ": " + std::string{key} + "\n";
  auto id = make_commit(repo_->r, dir_, opts_, *tree, parent.get(), text);
  if (!id)
    return std::move(id).error();
  return write_back_result{hex(*id), outcome::committed};
}

expected<void> workspace::discard_changes() {
  auto where = "workspace " + dir_.string() + ": discarding changes";
  auto head = head_id(repo_->r, dir_);
  if (!head)
    return std::move(head).error();
  commit_ptr c;
  if (int rc = git_commit_lookup(c.out(), repo_->r, &*head))
    return git_failure(where, rc);
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
  if (int rc = git_reset(repo_->r, reinterpret_cast<git_object*>(c.get()), GIT_RESET_HARD, &co))
    return git_failure(where, rc);
  // A hard reset checks out with GIT_CHECKOUT_FORCE alone (libgit2 replaces
  // the strategy given), which keeps untracked files: remove them now.
  if (int rc = git_checkout_head(repo_->r, &co))
    return git_failure(where, rc);
  return {};
}

expected<std::vector<workspace_commit>> workspace::log(std::size_t n) const {
  auto where = "workspace " + dir_.string() + ": reading the log";
  revwalk_ptr walk;
  if (int rc = git_revwalk_new(walk.out(), repo_->r))
    return git_failure(where, rc);
  // The first-parent chain (the write-backs, newest first), walked as it
  // streams: a topological sort walked the whole history before the first
  // commit, and the default time order can list a parent before its
  // children where a merge brings in commits with skewed clocks.
  git_revwalk_sorting(walk.get(), GIT_SORT_NONE);
  git_revwalk_simplify_first_parent(walk.get());
  if (int rc = git_revwalk_push_head(walk.get()))
    return git_failure(where, rc);
  std::vector<workspace_commit> out;
  git_oid id;
  while (out.size() < n) {
    int rc = git_revwalk_next(&id, walk.get());
    if (rc == GIT_ITEROVER)
      break;
    if (rc != 0)
      return git_failure(where, rc);
    commit_ptr c;
    if (rc = git_commit_lookup(c.out(), repo_->r, &id); rc != 0)
      return git_failure(where + " (commit " + hex(id) + ")", rc);
    const char* message = git_commit_message(c.get());
    out.push_back({hex(id), message ? message : "", key_of(message),
                   static_cast<std::int64_t>(git_commit_time(c.get())) * 1000});
  }
  return out;
}

expected<std::string> workspace::head() const {
  auto id = head_id(repo_->r, dir_);
  if (!id)
    return std::move(id).error();
  return hex(*id);
}

} // namespace endure::state
