#include "disk/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gregor::disk {

struct PosixDisk::Shared {
  net::EventLoop& loop;
  std::optional<uint64_t> quota_bytes;
  uint64_t used_bytes = 0;  // counted only when there is a quota

  bool fits(uint64_t growth) const {
    return !quota_bytes || (used_bytes <= *quota_bytes && growth <= *quota_bytes - used_bytes);
  }
  void account(uint64_t old_size, uint64_t new_size) {
    if (!quota_bytes) return;
    used_bytes = used_bytes - std::min(used_bytes, old_size) + new_size;
  }
};

namespace {

using Shared = PosixDisk::Shared;

Status os_error(int err, std::string_view what, const std::string& path) {
  Errc code = Errc::io_error;
  switch (err) {
    case ENOENT:
      code = Errc::not_found;
      break;
    case EEXIST:
      code = Errc::already_exists;
      break;
    case ENOSPC:
    case EDQUOT:
      code = Errc::no_space;
      break;
    default:
      break;  // EIO and everything else: io_error, the OS text says which
  }
  return errorf(code, "{} '{}': {}", what, path, std::strerror(err));
}

// Completions go through the loop so that they never run inside the call that started them.
template <typename Fn, typename Value>
void complete(net::EventLoop& loop, Fn done, Value value) {
  if (!done) return;
  loop.post(
      [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
}

// A seam path as an openat() argument relative to the root: "" is the root itself.
const char* at_path(const std::string& path) {
  return path.empty() ? "." : path.c_str();
}

int open_dir_at(int root_fd, const std::string& dir) {
  int fd;
  do {
    fd = ::openat(root_fd, at_path(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Total apparent size of the regular files under dir_fd (which this function closes).
Result<uint64_t> scan_bytes(int dir_fd, int depth) {
  if (depth > kQuotaScanDepthMax) {
    ::close(dir_fd);
    return errorf(Errc::limit_exceeded, "directories nested deeper than {}", kQuotaScanDepthMax);
  }
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    Status failed = os_error(errno, "fdopendir", "(quota scan)");
    ::close(dir_fd);
    return failed;
  }
  uint64_t total = 0;
  Status status;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      status = os_error(errno, "stat", entry->d_name);
      break;
    }
    if (S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_size);
    if (!S_ISDIR(st.st_mode)) continue;
    int sub = ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    auto bytes = sub < 0 ? Result<uint64_t>(os_error(errno, "open", entry->d_name))
                         : scan_bytes(sub, depth + 1);
    if (!bytes.ok()) {
      status = bytes.status();
      break;
    }
    total += *bytes;
  }
  ::closedir(dir);
  if (!status.ok()) return status;
  return total;
}

class PosixFile final : public File {
 public:
  PosixFile(std::shared_ptr<Shared> shared, std::string path, int fd, uint64_t size)
      : shared_(std::move(shared)), path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixFile() override { ::close(fd_); }

  const std::string& path() const override { return path_; }
  uint64_t size() const override { return size_; }

  void pread(uint64_t position, size_t len, ReadFn done) override {
    complete(shared_->loop, std::move(done), read_now(position, len));
  }
  void pwrite(uint64_t position, Bytes data, StatusFn done) override {
    complete(shared_->loop, std::move(done), write_now(position, data));
  }
  void append(Bytes data, AppendFn done) override {
    uint64_t position = size_;
    Status written = write_now(position, data);
    complete(shared_->loop, std::move(done),
             written.ok() ? Result<uint64_t>(position) : Result<uint64_t>(written));
  }
  void truncate(uint64_t size, StatusFn done) override {
    complete(shared_->loop, std::move(done), truncate_now(size));
  }
  void fsync(StatusFn done) override { complete(shared_->loop, std::move(done), fsync_now()); }

 private:
  Result<ReadBuffer> read_now(uint64_t position, size_t len);
  Status write_now(uint64_t position, const Bytes& data);
  Status truncate_now(uint64_t size);
  Status fsync_now();
  void resync_size();

  std::shared_ptr<Shared> shared_;
  std::string path_;
  int fd_;
  uint64_t size_;  // this File's view of the end of file: where append() writes
};

Result<ReadBuffer> PosixFile::read_now(uint64_t position, size_t len) {
  if (len > kReadBytesMax) {
    return errorf(Errc::limit_exceeded, "read of {} bytes from '{}' over {}", len, path_,
                  kReadBytesMax);
  }
  // Size the buffer by the real end of file, which another File may have moved.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return os_error(errno, "fstat", path_);
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  ReadBuffer out(position >= file_size ? 0 : std::min<uint64_t>(len, file_size - position));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(position + got));
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n == 0) {
      break;  // truncated meanwhile: fewer bytes, as at any end of file
    } else if (errno != EINTR) {
      return os_error(errno, "pread", path_);
    }
  }
  out.resize(got);
  return out;
}

Status PosixFile::write_now(uint64_t position, const Bytes& data) {
  uint64_t end = position + data.size();
  if (end > size_ && !shared_->fits(end - size_)) {
    return errorf(Errc::no_space, "write of {} bytes to '{}' would exceed the quota of {} bytes",
                  data.size(), path_, *shared_->quota_bytes);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(position + done));
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // A real full disk may have taken part of the write: learn the true size before failing.
    Status failed = n < 0 ? os_error(errno, "pwrite", path_)
                          : errorf(Errc::io_error, "pwrite to '{}' wrote nothing", path_);
    resync_size();
    return failed;
  }
  if (end > size_) {
    shared_->account(size_, end);
    size_ = end;
  }
  return Status::Ok();
}

Status PosixFile::truncate_now(uint64_t size) {
  if (size > size_ && !shared_->fits(size - size_)) {
    return errorf(Errc::no_space, "growing '{}' to {} bytes would exceed the quota", path_, size);
  }
  int rc;
  do {
    rc = ::ftruncate(fd_, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return os_error(errno, "ftruncate", path_);
  shared_->account(size_, size);
  size_ = size;
  return Status::Ok();
}

Status PosixFile::fsync_now() {
  int rc;
  do {
    rc = ::fdatasync(fd_);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return os_error(errno, "fdatasync", path_);
  return Status::Ok();
}

void PosixFile::resync_size() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return;
  uint64_t real = static_cast<uint64_t>(st.st_size);
  shared_->account(size_, real);
  size_ = real;
}

}  // namespace

Result<std::unique_ptr<PosixDisk>> PosixDisk::create(net::EventLoop& loop, const std::string& root,
                                                     Options options) {
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    if (errno == ENOTDIR) return errorf(Errc::invalid_argument, "'{}' is not a directory", root);
    return os_error(errno, "open disk root", root);
  }
  auto shared = std::make_shared<Shared>(Shared{loop, options.quota_bytes});
  if (options.quota_bytes) {
    int scan_fd = open_dir_at(root_fd, "");
    auto used =
        scan_fd < 0 ? Result<uint64_t>(os_error(errno, "open", root)) : scan_bytes(scan_fd, 0);
    if (!used.ok()) {
      ::close(root_fd);
      return used.status();
    }
    shared->used_bytes = *used;
  }
  return std::unique_ptr<PosixDisk>(new PosixDisk(root, root_fd, std::move(shared)));
}

PosixDisk::~PosixDisk() {
  ::close(root_fd_);
}

uint64_t PosixDisk::used_bytes() const {
  return shared_->quota_bytes ? shared_->used_bytes : 0;
}

void PosixDisk::open(const std::string& path, OpenMode mode, OpenFn done) {
  complete(shared_->loop, std::move(done), open_now(path, mode));
}

void PosixDisk::rename(const std::string& from, const std::string& to, StatusFn done) {
  complete(shared_->loop, std::move(done), rename_now(from, to));
}

void PosixDisk::remove(const std::string& path, StatusFn done) {
  complete(shared_->loop, std::move(done), remove_now(path));
}

void PosixDisk::mkdir(const std::string& path, StatusFn done) {
  Status status = validate_path(path);
  if (status.ok() && ::mkdirat(root_fd_, path.c_str(), 0755) != 0) {
    status = os_error(errno, "mkdir", path);
  }
  complete(shared_->loop, std::move(done), std::move(status));
}

void PosixDisk::list(const std::string& dir, ListFn done) {
  complete(shared_->loop, std::move(done), list_now(dir));
}

void PosixDisk::fsync_dir(const std::string& dir, StatusFn done) {
  complete(shared_->loop, std::move(done), fsync_dir_now(dir));
}

Result<FilePtr> PosixDisk::open_now(const std::string& path, OpenMode mode) {
  GREGOR_RETURN_IF_ERROR(validate_path(path));
  int flags = O_RDWR | O_CLOEXEC;
  if (mode == OpenMode::create_new) flags |= O_CREAT | O_EXCL;
  if (mode == OpenMode::open_or_create) flags |= O_CREAT;
  int fd;
  do {
    fd = ::openat(root_fd_, path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return os_error(errno, "open", path);
  struct stat st {};
  Status checked = ::fstat(fd, &st) != 0 ? os_error(errno, "fstat", path)
                   : S_ISREG(st.st_mode)
                       ? Status::Ok()
                       : errorf(Errc::invalid_argument, "'{}' is not a file", path);
  if (!checked.ok()) {
    ::close(fd);
    return checked;
  }
  return FilePtr(std::make_shared<PosixFile>(shared_, path, fd, static_cast<uint64_t>(st.st_size)));
}

Status PosixDisk::rename_now(const std::string& from, const std::string& to) {
  GREGOR_RETURN_IF_ERROR(validate_path(from));
  GREGOR_RETURN_IF_ERROR(validate_path(to));
  // A file replaced by the rename stops counting against the quota; renaming a file onto itself
  // (or onto another link to it) replaces nothing.
  uint64_t replaced_bytes = 0;
  struct stat to_st {};
  struct stat from_st {};
  if (::fstatat(root_fd_, to.c_str(), &to_st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(to_st.st_mode) &&
      !(::fstatat(root_fd_, from.c_str(), &from_st, AT_SYMLINK_NOFOLLOW) == 0 &&
        from_st.st_dev == to_st.st_dev && from_st.st_ino == to_st.st_ino)) {
    replaced_bytes = static_cast<uint64_t>(to_st.st_size);
  }
  if (::renameat(root_fd_, from.c_str(), root_fd_, to.c_str()) != 0) {
    return os_error(errno, "rename to '" + to + "' of", from);
  }
  shared_->account(replaced_bytes, 0);
  return Status::Ok();
}

Status PosixDisk::remove_now(const std::string& path) {
  GREGOR_RETURN_IF_ERROR(validate_path(path));
  struct stat st {};
  if (::fstatat(root_fd_, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return os_error(errno, "remove", path);
  }
  bool is_dir = S_ISDIR(st.st_mode);
  if (::unlinkat(root_fd_, path.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0) {
    return os_error(errno, "remove", path);
  }
  if (S_ISREG(st.st_mode)) shared_->account(static_cast<uint64_t>(st.st_size), 0);
  return Status::Ok();
}

Result<std::vector<std::string>> PosixDisk::list_now(const std::string& dir) {
  GREGOR_RETURN_IF_ERROR(validate_path(dir, /*allow_root=*/true));
  int fd = open_dir_at(root_fd_, dir);
  if (fd < 0) return os_error(errno, "list", dir);
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    Status failed = os_error(errno, "list", dir);
    ::close(fd);
    return failed;
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = entry->d_type == DT_DIR;
    struct stat st {};
    if (entry->d_type == DT_UNKNOWN &&
        ::fstatat(::dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      is_dir = S_ISDIR(st.st_mode);
    }
    names.push_back(is_dir ? name + "/" : name);
    errno = 0;
  }
  int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) return os_error(read_errno, "list", dir);
  std::sort(names.begin(), names.end());
  return names;
}

Status PosixDisk::fsync_dir_now(const std::string& dir) {
  GREGOR_RETURN_IF_ERROR(validate_path(dir, /*allow_root=*/true));
  int fd = open_dir_at(root_fd_, dir);
  if (fd < 0) return os_error(errno, "open directory", dir);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  Status status = rc == 0 ? Status::Ok() : os_error(errno, "fsync directory", dir);
  ::close(fd);
  return status;
}

}  // namespace gregor::disk
