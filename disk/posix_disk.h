// The production Disk: POSIX files under one root directory. Each call does its syscalls at once
// (the loop thread blocks on them, as file I/O on Linux does without io_uring) and posts the
// completion to the EventLoop, so completions never run inside the call that started them.
//
// Files: opened O_RDWR | O_CLOEXEC; append() writes with pwrite at the end of file as this File
// tracks it (initialised from fstat at open), so one File per path should append at a time;
// fsync() is fdatasync(2), which also makes a changed size durable.
//
// Errors: ENOENT -> not_found, EEXIST -> already_exists, ENOSPC / EDQUOT -> no_space,
// EIO -> io_error, a bad seam path -> invalid_argument, anything else -> io_error carrying the OS
// text.
//
// Quota (Options::quota_bytes): the disk counts the sizes of regular files under the root
// (scanned at creation, then kept up to date by writes, truncates, renames and removes made
// through this disk) and fails a write or truncate that would exceed the quota with no_space,
// writing nothing. It stands in for a full file system in tests. The count is of apparent
// sizes, and an open File that was removed still counts its growth; changes made behind the
// disk's back are not seen.
//
// Lifetime: the EventLoop must outlive the disk and every File; Files may outlive the disk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "disk/disk.h"
#include "net/event_loop.h"

namespace gregor::disk {

// Named limits.
inline constexpr size_t kReadBytesMax = 256u << 20;  // one pread; larger asks: limit_exceeded
inline constexpr int kQuotaScanDepthMax = 64;        // directory nesting the quota scan follows

class PosixDisk final : public Disk {
 public:
  struct Options {
    std::optional<uint64_t> quota_bytes;  // unset: only the file system limits writes
  };
  // Shared by the disk and its files (quota accounting, the loop); defined in the .cc.
  struct Shared;

  // Roots a disk at an existing directory. not_found if it is missing, invalid_argument if it is
  // not a directory, io_error if the quota scan fails.
  static Result<std::unique_ptr<PosixDisk>> create(net::EventLoop& loop, const std::string& root,
                                                   Options options = {});
  ~PosixDisk() override;
  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  void open(const std::string& path, OpenMode mode, OpenFn done) override;
  void rename(const std::string& from, const std::string& to, StatusFn done) override;
  // Removes a file, or an empty directory (a non-empty one: io_error).
  void remove(const std::string& path, StatusFn done) override;
  void mkdir(const std::string& path, StatusFn done) override;
  void list(const std::string& dir, ListFn done) override;
  void fsync_dir(const std::string& dir, StatusFn done) override;

  const std::string& root() const { return root_; }
  // Bytes counted against the quota (0 when there is no quota).
  uint64_t used_bytes() const;

 private:
  PosixDisk(std::string root, int root_fd, std::shared_ptr<Shared> shared)
      : root_(std::move(root)), root_fd_(root_fd), shared_(std::move(shared)) {}
  Result<FilePtr> open_now(const std::string& path, OpenMode mode);
  Status rename_now(const std::string& from, const std::string& to);
  Status remove_now(const std::string& path);
  Result<std::vector<std::string>> list_now(const std::string& dir);
  Status fsync_dir_now(const std::string& dir);

  std::string root_;
  int root_fd_;  // every path is resolved relative to it (openat and friends)
  std::shared_ptr<Shared> shared_;
};

}  // namespace gregor::disk
