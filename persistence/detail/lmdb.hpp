// RAII handles over the LMDB C API. Internal: only persistence/*.cpp include
// this (and so lmdb.h). A transaction that was not committed aborts in its
// destructor; a cursor closes in its destructor.
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>
#include <utility>

#include "endure/persistence/error.hpp"

namespace endure::detail {

/// Maps an LMDB return code to an endure error with `what` as context.
error lmdb_error(int rc, std::string_view what);

inline MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

inline std::string_view to_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

class lmdb_env {
public:
  lmdb_env() = default;
  explicit lmdb_env(MDB_env* e) : env_(e) {}
  lmdb_env(lmdb_env&& o) noexcept : env_(std::exchange(o.env_, nullptr)) {}
  lmdb_env& operator=(lmdb_env&& o) noexcept {
    std::swap(env_, o.env_);
    return *this;
  }
  ~lmdb_env() {
    if (env_)
      mdb_env_close(env_);
  }
  MDB_env* get() const noexcept { return env_; }

private:
  MDB_env* env_ = nullptr;
};

class lmdb_txn {
public:
  lmdb_txn() = default;
  lmdb_txn(lmdb_txn&& o) noexcept : txn_(std::exchange(o.txn_, nullptr)) {}
  lmdb_txn& operator=(lmdb_txn&& o) noexcept {
    std::swap(txn_, o.txn_);
    return *this;
  }
  ~lmdb_txn() { abort(); }

  /// Begins a transaction (read-only if `flags` has MDB_RDONLY).
  static expected<lmdb_txn> begin(MDB_env* env, unsigned flags) {
    lmdb_txn t;
    if (int rc = mdb_txn_begin(env, nullptr, flags, &t.txn_); rc != 0)
      return lmdb_error(rc, "begin transaction");
    return t;
  }

  MDB_txn* get() const noexcept { return txn_; }

  int commit() noexcept { return mdb_txn_commit(std::exchange(txn_, nullptr)); }

  void abort() noexcept {
    if (txn_)
      mdb_txn_abort(std::exchange(txn_, nullptr));
  }

private:
  MDB_txn* txn_ = nullptr;
};

/// A cursor whose positioning calls return false at the end of the data
/// *or* on an error; `failed()` tells them apart (LMDB errors must not read
/// as "no more records"). A cursor that failed to open fails every call.
class lmdb_cursor {
public:
  lmdb_cursor(MDB_txn* txn, MDB_dbi dbi) {
    rc_ = mdb_cursor_open(txn, dbi, &cur_);
    if (rc_ != 0)
      cur_ = nullptr;
  }
  lmdb_cursor(const lmdb_cursor&) = delete;
  lmdb_cursor& operator=(const lmdb_cursor&) = delete;
  ~lmdb_cursor() {
    if (cur_)
      mdb_cursor_close(cur_);
  }
  /// Non-zero if opening failed.
  int open_rc() const noexcept { return cur_ ? 0 : rc_; }
  /// True once a call failed with an LMDB error (not MDB_NOTFOUND); rc()
  /// is that error.
  bool failed() const noexcept { return rc_ != 0; }
  int rc() const noexcept { return rc_; }

  /// Positions at the first key >= `key`; false at the end or on error.
  bool seek(std::string_view key, MDB_val& k, MDB_val& v) {
    k = to_val(key);
    return get(k, v, MDB_SET_RANGE);
  }
  bool next(MDB_val& k, MDB_val& v) { return get(k, v, MDB_NEXT); }
  bool prev(MDB_val& k, MDB_val& v) { return get(k, v, MDB_PREV); }
  bool last(MDB_val& k, MDB_val& v) { return get(k, v, MDB_LAST); }
  bool first(MDB_val& k, MDB_val& v) { return get(k, v, MDB_FIRST); }
  int del() { return cur_ ? mdb_cursor_del(cur_, 0) : rc_; }

private:
  bool get(MDB_val& k, MDB_val& v, MDB_cursor_op op) {
    if (!cur_)
      return false;
    int rc = mdb_cursor_get(cur_, &k, &v, op);
    if (rc != 0 && rc != MDB_NOTFOUND)
      rc_ = rc;
    return rc == 0;
  }

  MDB_cursor* cur_ = nullptr;
  int rc_ = 0;
};

} // namespace endure::detail
