// The write-ahead log file (wal_file.hpp). Integers are little-endian.
//
// Slot: "ENDUWAL1", u32 version (1), u32 body length, body (u64 number,
// lmdb txnid, next seq, next offset, file size; u32 + boot id; u32 + meta
// pages), u64 XXH3-64 of everything before it.
// Record header (32 bytes): u32 magic, u32 kind (1 record, 2 wrap: the
// record with this seq is at the ring's start), u64 seq, u32 payload
// length, u32 zero, u64 XXH3-64 of the header's first 24 bytes and the
// payload; then the payload, padded to 8 bytes.
#include "endure/persistence/detail/wal_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "endure/persistence/detail/little_endian.hpp"
#include "endure/persistence/detail/sync_directory.hpp"

namespace endure::detail {

namespace {

constexpr char slot_magic[8] = {'E', 'N', 'D', 'U', 'W', 'A', 'L', '1'};
constexpr std::uint32_t record_magic = 0x52574c45;  // "ELWR"
constexpr std::uint32_t kind_record = 1;
constexpr std::uint32_t kind_wrap = 2;

std::uint64_t padded(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

bool get_bytes(std::string_view& in, std::string& out) {
  std::uint32_t n = 0;
  if (!get_le(in, n) || in.size() < n)
    return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

error io_failure(const std::string& what, const std::string& path) {
  return make_error(errc::io_error, "cannot " + what + " the write-ahead log " + path + ": "
                                      + std::strerror(errno));
}

std::string encode_slot(const wal_checkpoint& c, std::uint64_t file_size) {
  std::string body;
  put_le(body, c.number);
  put_le(body, c.lmdb_txnid);
  put_le(body, c.next_seq);
  put_le(body, c.next_offset);
  put_le(body, file_size);
  put_le(body, static_cast<std::uint32_t>(c.boot_id.size()));
  body += c.boot_id;
  put_le(body, static_cast<std::uint32_t>(c.meta_pages.size()));
  body += c.meta_pages;
  std::string slot{slot_magic, sizeof(slot_magic)};
  put_le(slot, std::uint32_t{1});
  put_le(slot, static_cast<std::uint32_t>(body.size()));
  slot += body;
  put_le(slot, XXH3_64bits(slot.data(), slot.size()));
  return slot;
}

/// The checkpoint a slot holds; nullopt if it holds none (zeros, torn,
/// another format).
std::optional<wal_checkpoint> decode_slot(std::string_view slot, std::uint64_t file_size) {
  std::string_view in = slot;
  std::uint32_t version = 0, body_size = 0;
  if (in.substr(0, sizeof(slot_magic)) != std::string_view{slot_magic, sizeof(slot_magic)})
    return std::nullopt;
  in.remove_prefix(sizeof(slot_magic));
  if (!get_le(in, version) || version != 1 || !get_le(in, body_size)
      || in.size() < std::uint64_t{body_size} + 8)
    return std::nullopt;
  auto covered = sizeof(slot_magic) + 8 + body_size;
  std::string_view sum_in = slot.substr(covered, 8);
  std::uint64_t sum = 0;
  if (!get_le(sum_in, sum) || sum != XXH3_64bits(slot.data(), covered))
    return std::nullopt;
  wal_checkpoint c;
  std::uint64_t size = 0;
  if (!get_le(in, c.number) || !get_le(in, c.lmdb_txnid) || !get_le(in, c.next_seq)
      || !get_le(in, c.next_offset) || !get_le(in, size) || !get_bytes(in, c.boot_id)
      || !get_bytes(in, c.meta_pages))
    return std::nullopt;
  if (size != file_size || c.next_offset < wal_file::records_begin || c.next_offset >= size)
    return std::nullopt;
  return c;
}

std::uint64_t record_sum(std::string_view header24, std::string_view payload) {
  XXH3_state_t* s = XXH3_createState();
  XXH3_64bits_reset(s);
  XXH3_64bits_update(s, header24.data(), header24.size());
  XXH3_64bits_update(s, payload.data(), payload.size());
  auto sum = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return sum;
}

std::string encode_header(std::uint32_t kind, std::uint64_t seq, std::string_view payload) {
  std::string h;
  put_le(h, record_magic);
  put_le(h, kind);
  put_le(h, seq);
  put_le(h, static_cast<std::uint32_t>(payload.size()));
  put_le(h, std::uint32_t{0});
  put_le(h, record_sum(h, payload));
  return h;
}

} // namespace

std::string current_boot_id() {
  std::ifstream in{"/proc/sys/kernel/random/boot_id"};
  std::string id;
  std::getline(in, id);
  return id.empty() ? "unknown" : id;
}

wal_file::wal_file(std::string path, int fd, std::uint64_t size)
  : path_(std::move(path)), fd_(fd), size_(size) {}

wal_file::wal_file(wal_file&& o) noexcept
  : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), size_(o.size_),
    checkpoint_(std::move(o.checkpoint_)), checkpoint_slot_(o.checkpoint_slot_),
    head_offset_(o.head_offset_), head_seq_(o.head_seq_),
    since_checkpoint_(o.since_checkpoint_) {}

wal_file::~wal_file() {
  if (fd_ >= 0)
    ::close(fd_);
}

expected<void> wal_file::write_at(std::uint64_t offset, std::string_view bytes) const {
  while (!bytes.empty()) {
    auto n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return io_failure("write", path_);
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

expected<void> wal_file::write_durably_at(std::uint64_t offset, std::string_view bytes) const {
  // One system call: the write and its flush (RWF_DSYNC, as O_DSYNC for
  // this write alone); a kernel without it gets write + fdatasync.
  iovec v{const_cast<char*>(bytes.data()), bytes.size()};
  for (;;) {
    auto n = ::pwritev2(fd_, &v, 1, static_cast<off_t>(offset), RWF_DSYNC);
    if (n == static_cast<ssize_t>(bytes.size()))
      return {};
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS && errno != EPERM)
      return io_failure("write", path_);
    break;  // short or unsupported: the plain way
  }
  if (auto ok = write_at(offset, bytes); !ok)
    return ok;
  return flush();
}

expected<void> wal_file::flush() const {
  if (::fdatasync(fd_) != 0)
    return io_failure("flush", path_);
  return {};
}

expected<wal_file> wal_file::open(const std::string& path, bool read_only) {
  int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    return io_failure("open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = io_failure("stat", path);
    ::close(fd);
    return e;
  }
  wal_file f{path, fd, static_cast<std::uint64_t>(st.st_size)};
  if (f.size_ < records_begin + record_header_size * 2)
    return make_error(errc::corrupt_record,
                      "the write-ahead log " + path + " is " + std::to_string(f.size_)
                        + " bytes, too short to be one; if the directory was copied, copy "
                          "it again whole");
  std::optional<wal_checkpoint> best;
  for (int slot = 0; slot < 2; ++slot) {
    std::string bytes(slot_size, '\0');
    auto n = ::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(slot * slot_size));
    if (n != static_cast<ssize_t>(slot_size))
      return io_failure("read", path);
    auto c = decode_slot(bytes, f.size_);
    if (c && (!best || c->number > best->number)) {
      best = std::move(c);
      f.checkpoint_slot_ = slot;
    }
  }
  if (!best)
    return make_error(errc::corrupt_record,
                      "the write-ahead log " + path + " holds no valid checkpoint (both "
                      "slots damaged): data.mdb cannot be brought back to a known state. "
                      "Restore the whole data directory (data.mdb with its journal.wal) from "
                      "a backup");
  f.checkpoint_ = std::move(*best);
  f.head_offset_ = f.checkpoint_.next_offset;
  f.head_seq_ = f.checkpoint_.next_seq;
  return f;
}

expected<wal_file> wal_file::create(const std::string& path, std::uint64_t size,
                                    wal_checkpoint first) {
  if (size < records_begin + 64 * 1024)
    return make_error(errc::invalid_argument, "the write-ahead log must be at least "
                                                + std::to_string(records_begin + 64 * 1024)
                                                + " bytes");
  auto tmp = path + ".new";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_failure("create", tmp);
  wal_file f{tmp, fd, size};
  // A log that could not be made whole is never read, but it would keep
  // the space it took (64 MiB by default) on a disk that is likely full.
  auto removed = [&tmp](error e) {
    ::unlink(tmp.c_str());
    return e;
  };
  // Zeros, not fallocate: a range fallocate reserved is "unwritten" until
  // written, and the first append into it would update file-system metadata.
  std::string zeros(1 << 20, '\0');
  for (std::uint64_t at = 0; at < size; at += zeros.size())
    if (auto ok = f.write_at(at, std::string_view{zeros}.substr(0, std::min<std::uint64_t>(
                                                                     zeros.size(), size - at)));
        !ok)
      return removed(std::move(ok).error());
  first.number = 1;
  first.next_seq = 1;
  first.next_offset = records_begin;
  auto slot = encode_slot(first, size);
  if (slot.size() > slot_size)
    return removed(make_error(errc::invalid_argument, "LMDB's meta pages do not fit a "
                                                      "write-ahead log checkpoint (page size "
                                                      "above 8 KiB)"));
  if (auto ok = f.write_at(0, slot); !ok)
    return removed(std::move(ok).error());
  if (::fsync(fd) != 0)
    return removed(io_failure("flush", tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return removed(io_failure("rename into place", tmp));
  if (auto ok = sync_directory(std::filesystem::path{path}.parent_path()); !ok)
    return std::move(ok).error();
  f.path_ = path;
  f.checkpoint_ = std::move(first);
  f.head_offset_ = records_begin;
  return f;
}

std::uint64_t wal_file::place(std::uint64_t offset, std::uint64_t total) const noexcept {
  return offset + total <= size_ ? offset : records_begin;
}

expected<std::vector<std::string>> wal_file::read_records() {
  std::vector<std::string> out;
  auto offset = checkpoint_.next_offset;
  auto seq = checkpoint_.next_seq;
  std::uint64_t scanned = 0, bytes = 0;
  bool wrapped = false;
  for (;;) {
    if (size_ - offset < record_header_size) {
      if (wrapped)
        break;
      offset = records_begin, wrapped = true;
    }
    std::string header(record_header_size, '\0');
    if (::pread(fd_, header.data(), header.size(), static_cast<off_t>(offset))
        != static_cast<ssize_t>(header.size()))
      return io_failure("read", path_);
    std::string_view in = header;
    std::uint32_t magic = 0, kind = 0, length = 0, zero = 0;
    std::uint64_t got_seq = 0, sum = 0;
    get_le(in, magic), get_le(in, kind), get_le(in, got_seq), get_le(in, length),
      get_le(in, zero), get_le(in, sum);
    if (magic != record_magic || got_seq != seq || zero != 0
        || offset + record_header_size + length > size_)
      break;
    std::string payload(length, '\0');
    if (length > 0
        && ::pread(fd_, payload.data(), length, static_cast<off_t>(offset + record_header_size))
             != static_cast<ssize_t>(length))
      return io_failure("read", path_);
    if (sum != record_sum(std::string_view{header}.substr(0, 24), payload))
      break;
    if (kind == kind_wrap) {
      if (wrapped)
        break;  // a second wrap in one scan: not a log this file wrote
      offset = records_begin, wrapped = true;
      continue;
    }
    if (kind != kind_record)
      break;
    auto total = record_header_size + padded(length);
    scanned += total;
    if (scanned > size_)
      break;
    out.push_back(std::move(payload));
    offset += total;
    bytes += total;
    ++seq;
  }
  head_offset_ = offset;
  head_seq_ = seq;
  since_checkpoint_ = bytes;
  return out;
}

bool wal_file::fits(std::size_t payload_size) const noexcept {
  auto total = record_header_size + padded(payload_size);
  if (records_begin + total > size_)
    return false;
  auto live = checkpoint_.next_offset;  // the first record after the checkpoint
  auto at = place(head_offset_, total);
  bool empty = since_checkpoint_ == 0;
  if (empty || head_offset_ > live)  // the live records are [live, head) or none
    return at == head_offset_ || records_begin + total <= live;
  // They wrapped: [live, end) and [records_begin, head); the gap is between.
  return at == head_offset_ && head_offset_ + total <= live;
}

expected<void> wal_file::append(std::string_view payload) {
  auto total = record_header_size + padded(payload.size());
  auto at = place(head_offset_, total);
  // The marker is flushed too: a scan that meets no marker at the end
  // would stop there and miss the records at the ring's start.
  if (at != head_offset_ && size_ - head_offset_ >= record_header_size)
    if (auto ok = write_durably_at(head_offset_, encode_header(kind_wrap, head_seq_, {})); !ok)
      return ok;
  std::string bytes = encode_header(kind_record, head_seq_, payload);
  bytes += payload;
  bytes.resize(total, '\0');
  if (auto ok = write_durably_at(at, bytes); !ok)
    return ok;
  head_offset_ = at + total;
  ++head_seq_;
  since_checkpoint_ += total;
  return {};
}

expected<void> wal_file::write_checkpoint(wal_checkpoint c) {
  c.number = checkpoint_.number + 1;
  c.next_seq = head_seq_;
  c.next_offset = size_ - head_offset_ < record_header_size ? records_begin : head_offset_;
  auto slot = encode_slot(c, size_);
  if (slot.size() > slot_size)
    return make_error(errc::invalid_argument, "LMDB's meta pages do not fit a write-ahead "
                                              "log checkpoint (page size above 8 KiB)");
  auto index = 1 - checkpoint_slot_;
  if (auto ok = write_at(static_cast<std::uint64_t>(index) * slot_size, slot); !ok)
    return ok;
  if (auto ok = flush(); !ok)
    return ok;
  checkpoint_ = std::move(c);
  checkpoint_slot_ = index;
  head_offset_ = checkpoint_.next_offset;
  since_checkpoint_ = 0;
  return {};
}

} // namespace endure::detail
