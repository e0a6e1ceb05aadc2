// A task's workspace: a directory where the task works on files, with a git
// history (libgit2). The task reads the log when it wakes, edits files, and
// writes back with commit_all: every write-back is one commit with a
// descriptive message, and the tree is clean after it.
//
// A write-back is idempotent by key: its commit carries the trailer
// "Endure-Write-Back: KEY", and commit_all with a key HEAD already carries
// commits nothing and returns HEAD. So a step killed (SIGKILL) after its
// commit but before its journal entry commits nothing the second time: the
// git log has one commit per write-back. Commits are fsynced (libgit2's
// GIT_OPT_ENABLE_FSYNC_GITDIR) before commit_all returns, so a journaled
// write-back is on disk.
//
// One writer per workspace: open_or_init removes the lock files a process
// killed mid-commit leaves in .git (index.lock, refs/heads/main.lock), which
// would be wrong if another process were committing. Any thread, one call
// at a time per object. Errors are values naming the workspace, the path
// and libgit2's message. Paths are relative, '/'-separated; write_file and
// read_file refuse any that would leave the workspace or touch .git.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::state {

/// The trailer key a write-back's commit carries its idempotency key in.
inline constexpr std::string_view write_back_trailer = "Endure-Write-Back";

/// One commit of log().
struct workspace_commit {
  std::string id;        ///< full hex object id
  std::string message;   ///< the whole message, trailer included
  std::string key;       ///< its write-back key ("" if it has none)
  std::int64_t time_ms = 0;  ///< commit time (Unix ms; git keeps seconds)
};

/// What commit_all did.
struct write_back_result {
  enum class outcome {
    committed,           ///< a new commit holds the tree
    already_committed,   ///< HEAD carries the key: nothing was committed
    nothing_to_commit,   ///< the tree equals HEAD's: no empty commit made
  };
  std::string commit;    ///< HEAD's id after the call
  outcome what = outcome::committed;
};

struct workspace_options {
  /// Author and committer of every commit.
  /// Default: "endure" <endure@localhost>.
  std::string author_name = "endure";
  std::string author_email = "endure@localhost";
  /// The branch a new repository starts on. Default: "main".
  std::string initial_branch = "main";
};

class workspace {
public:
  /// Opens the git repository at `dir` (exactly there: a repository above
  /// it does not count), creating the directory and the repository if
  /// absent. A repository without commits (a new one, or one whose init a
  /// crash interrupted) gets a first commit, "Workspace created", of the
  /// files already in `dir`. Errors: io_error (cannot create the directory,
  /// libgit2 failing, with its message and the path).
  static expected<workspace> open_or_init(const std::filesystem::path& dir,
                                          workspace_options options = {});

  /// Opens an existing workspace as it is, for readers in other processes
  /// (`endure inspect`, a test watching a live task): unlike open_or_init
  /// it creates nothing and leaves lock files alone, which belong to the
  /// writer's commit in flight. Use it to read (log, read_file, is_clean).
  /// Errors: not_found (no repository at `dir`), io_error (libgit2's).
  static expected<workspace> open_existing(const std::filesystem::path& dir,
                                           workspace_options options = {});

  workspace(workspace&&) noexcept;
  workspace& operator=(workspace&&) noexcept;
  ~workspace();

  const std::filesystem::path& dir() const noexcept { return dir_; }

  /// Writes `text` to `path` (creating its folders), replacing the file.
  /// Errors: invalid_argument for a path that is empty, absolute, has an
  /// empty, "." or ".." component, a NUL, names .git (any case) or
  /// resolves, through a symlink, outside the workspace or into .git;
  /// io_error when the write fails.
  expected<void> write_file(std::string_view path, std::string_view text);
  /// The file's contents. Errors: as write_file's, and not_found.
  expected<std::string> read_file(std::string_view path) const;
  /// Removes the file. Errors: as write_file's, and not_found.
  expected<void> remove_file(std::string_view path);
  /// Every file of the working tree (not .git), relative, sorted.
  /// Symlinks are listed, not followed. Errors: io_error.
  expected<std::vector<std::string>> list_files() const;

  /// Whether the working tree matches HEAD (no change, nothing untracked;
  /// files ignored by a .gitignore do not count).
  expected<bool> is_clean() const;

  /// Commits every change of the working tree (new, changed and deleted
  /// files) with `message` and the trailer "Endure-Write-Back: KEY".
  /// If HEAD already carries `key`, commits nothing (already_committed).
  /// A tree equal to HEAD's makes no commit (nothing_to_commit) unless
  /// `allow_empty`: history shows changes; a session that changed nothing
  /// says so in its progress entry, not in an empty commit. Errors:
  /// invalid_argument (empty message, a key that is empty, over 200 bytes
  /// or has a newline), io_error (libgit2's message).
  expected<write_back_result> commit_all(std::string_view message, std::string_view key,
                                         bool allow_empty = false);

  /// Throws away uncommitted changes: the tree is HEAD's again and
  /// untracked files are removed (what a process killed between editing
  /// and committing left behind). Errors: io_error.
  expected<void> discard_changes();

  /// The newest `n` commits of HEAD's first-parent chain (the write-backs;
  /// what a merge brought in is not listed), newest first.
  expected<std::vector<workspace_commit>> log(std::size_t n) const;
  /// HEAD's id.
  expected<std::string> head() const;

private:
  struct repo;
  workspace(std::filesystem::path dir, std::unique_ptr<repo> r, workspace_options options);

  std::filesystem::path dir_;
  std::unique_ptr<repo> repo_;
  workspace_options opts_;
};

} // namespace endure::state
