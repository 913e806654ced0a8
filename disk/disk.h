// The disk seam: files under one root directory, with asynchronous completions and typed errors.
// Production: disk/posix_disk.h (O_CLOEXEC, fdatasync, rename + directory fsync). Simulation:
// sim/sim_disk.h, which models the page cache (a crash keeps only what was synced, plus an
// arbitrary prefix of the rest) and disk faults.
//
// Durability contract, as on Linux: data written to a file is durable after File::fsync; a
// directory entry (create, rename, remove) is durable only after fsync_dir of its directory.
// Paths are relative to the root, '/'-separated, with no "." or ".." components.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::disk {

enum class OpenMode : uint8_t {
  open_existing,  // Errc::not_found if missing
  create_new,     // Errc::already_exists if present
  open_or_create,
};

using StatusFn = std::function<void(const Status&)>;

class File {
 public:
  using ReadFn = std::function<void(Result<ReadBuffer>)>;
  using AppendFn = std::function<void(Result<uint64_t>)>;  // the position the bytes landed at

  virtual ~File() = default;  // closes; pending completions still run
  virtual const std::string& path() const = 0;
  // Current size, including writes not yet synced.
  virtual uint64_t size() const = 0;
  // Reads up to len bytes at position; fewer at end of file. io_error on a bad sector.
  virtual void pread(uint64_t position, size_t len, ReadFn done) = 0;
  virtual void pwrite(uint64_t position, Bytes data, StatusFn done) = 0;
  virtual void append(Bytes data, AppendFn done) = 0;
  virtual void truncate(uint64_t size, StatusFn done) = 0;
  // Makes this file's data and size durable. io_error means the dirty data may be gone: callers
  // must not retry and assume success (the fsyncgate lesson); reopen and re-read instead.
  virtual void fsync(StatusFn done) = 0;
};
using FilePtr = std::shared_ptr<File>;

class Disk {
 public:
  using OpenFn = std::function<void(Result<FilePtr>)>;
  using ListFn = std::function<void(Result<std::vector<std::string>>)>;

  virtual ~Disk() = default;
  virtual void open(const std::string& path, OpenMode mode, OpenFn done) = 0;
  // Atomically replaces `to` with `from` (POSIX rename).
  virtual void rename(const std::string& from, const std::string& to, StatusFn done) = 0;
  virtual void remove(const std::string& path, StatusFn done) = 0;
  // Creates one directory level; already_exists if present.
  virtual void mkdir(const std::string& path, StatusFn done) = 0;
  // Names in a directory ("" is the root), sorted; subdirectories end with '/'.
  virtual void list(const std::string& dir, ListFn done) = 0;
  // Makes the directory's entries durable.
  virtual void fsync_dir(const std::string& dir, StatusFn done) = 0;
};

// Checks a seam path: relative, '/'-separated, no empty, "." or ".." components.
Status validate_path(const std::string& path, bool allow_root = false);
// "a/b/c" -> "a/b"; "c" -> "".
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);

}  // namespace gregor::disk
