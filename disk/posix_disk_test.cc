// Proves PosixDisk on a real temporary directory: files can be created, appended, read, written in
// place, truncated and synced; directory operations (mkdir, list, rename, remove, fsync_dir) do
// what the Disk seam promises; failures are typed (not_found, already_exists, invalid_argument);
// completions never run inside the call; and with a quota the disk behaves as a full one:
// writes past it fail with no_space, write nothing, and the file keeps only what fit.
#include "disk/posix_disk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gregor::posix_disk_test {
namespace {

using namespace gregor::disk;  // NOLINT: the fixture below takes the name PosixDisk

constexpr Duration kWait = seconds(10);

// Named after the class under test so that ctest shows PosixDisk.<Case>.
class PosixDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gregor-posix-disk-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto loop = net::EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.status().to_string();
    loop_ = std::move(loop).value();
    make_disk({});
  }
  void TearDown() override {
    disk_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  void make_disk(disk::PosixDisk::Options options) {
    disk_.reset();
    auto disk = disk::PosixDisk::create(*loop_, root_, options);
    ASSERT_TRUE(disk.ok()) << disk.status().to_string();
    disk_ = std::move(disk).value();
  }

  // Starts an asynchronous call and runs the loop until its completion delivers a value.
  template <typename T, typename Start>
  T await(Start start) {
    std::optional<T> out;
    start([&out](T value) { out.emplace(std::move(value)); });
    EXPECT_TRUE(loop_->run_until([&] { return out.has_value(); }, kWait));
    if (!out) return T(error(Errc::timed_out, "test gave up waiting"));
    return std::move(*out);
  }

  Result<FilePtr> open(const std::string& path, OpenMode mode = OpenMode::open_or_create) {
    return await<Result<FilePtr>>([&](auto done) { disk_->open(path, mode, done); });
  }
  Result<uint64_t> append(const FilePtr& f, std::string_view text) {
    return await<Result<uint64_t>>([&](auto done) { f->append(to_bytes(text), done); });
  }
  Status pwrite(const FilePtr& f, uint64_t position, std::string_view text) {
    return await<Status>([&](auto done) { f->pwrite(position, to_bytes(text), done); });
  }
  std::string read(const FilePtr& f, uint64_t position, size_t len) {
    auto bytes = await<Result<ReadBuffer>>([&](auto done) { f->pread(position, len, done); });
    EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
    return bytes.ok() ? std::string(as_chars(*bytes)) : std::string();
  }
  Status truncate(const FilePtr& f, uint64_t size) {
    return await<Status>([&](auto done) { f->truncate(size, done); });
  }
  Status fsync(const FilePtr& f) {
    return await<Status>([&](auto done) { f->fsync(done); });
  }
  Status rename(const std::string& from, const std::string& to) {
    return await<Status>([&](auto done) { disk_->rename(from, to, done); });
  }
  Status remove(const std::string& path) {
    return await<Status>([&](auto done) { disk_->remove(path, done); });
  }
  Status mkdir(const std::string& path) {
    return await<Status>([&](auto done) { disk_->mkdir(path, done); });
  }
  Status fsync_dir(const std::string& dir) {
    return await<Status>([&](auto done) { disk_->fsync_dir(dir, done); });
  }
  Result<std::vector<std::string>> list(const std::string& dir) {
    return await<Result<std::vector<std::string>>>([&](auto done) { disk_->list(dir, done); });
  }
  FilePtr must_open(const std::string& path, OpenMode mode = OpenMode::open_or_create) {
    auto file = open(path, mode);
    EXPECT_TRUE(file.ok()) << file.status().to_string();
    return file.ok() ? *file : nullptr;
  }
  // What is really on disk, read behind the seam's back.
  std::string on_disk(const std::string& path) {
    std::string out;
    int fd = ::open((root_ + "/" + path).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "<missing>";
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }

  std::string root_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<disk::PosixDisk> disk_;
};

TEST_F(PosixDisk, CreateAppendAndReadBack) {
  FilePtr f = must_open("seg.log", OpenMode::create_new);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path(), "seg.log");
  EXPECT_EQ(f->size(), 0u);
  auto first = append(f, "hello");
  auto second = append(f, " world");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, 0u);
  EXPECT_EQ(*second, 5u);
  EXPECT_EQ(f->size(), 11u);
  EXPECT_EQ(read(f, 0, 100), "hello world");
  EXPECT_EQ(read(f, 6, 5), "world");
  EXPECT_EQ(read(f, 20, 5), "");
  EXPECT_TRUE(fsync(f).ok());
  EXPECT_EQ(on_disk("seg.log"), "hello world");
}

TEST_F(PosixDisk, PwriteOverwritesAndExtends) {
  FilePtr f = must_open("data");
  ASSERT_TRUE(append(f, "aaaaaa").ok());
  ASSERT_TRUE(pwrite(f, 2, "BB").ok());
  ASSERT_TRUE(pwrite(f, 6, "tail").ok());
  EXPECT_EQ(f->size(), 10u);
  EXPECT_EQ(read(f, 0, 10), "aaBBaatail");
  auto at = append(f, "!");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, 10u);
}

TEST_F(PosixDisk, TruncateThenAppendContinuesAtNewEnd) {
  FilePtr f = must_open("data");
  ASSERT_TRUE(append(f, "0123456789").ok());
  ASSERT_TRUE(truncate(f, 4).ok());
  EXPECT_EQ(f->size(), 4u);
  auto at = append(f, "xy");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, 4u);
  EXPECT_EQ(on_disk("data"), "0123xy");
}

TEST_F(PosixDisk, ReopenSeesSizeOnDisk) {
  ASSERT_TRUE(append(must_open("data"), "persisted").ok());
  FilePtr again = must_open("data", OpenMode::open_existing);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->size(), 9u);
  EXPECT_EQ(read(again, 0, 9), "persisted");
}

TEST_F(PosixDisk, OpenModesGiveTypedErrors) {
  EXPECT_EQ(open("missing", OpenMode::open_existing).code(), Errc::not_found);
  EXPECT_EQ(open("dir/missing", OpenMode::open_or_create).code(), Errc::not_found);
  ASSERT_NE(must_open("here", OpenMode::create_new), nullptr);
  EXPECT_EQ(open("here", OpenMode::create_new).code(), Errc::already_exists);
  EXPECT_TRUE(open("here", OpenMode::open_or_create).ok());
  EXPECT_TRUE(open("here", OpenMode::open_existing).ok());
}

TEST_F(PosixDisk, InvalidPathsAreRejected) {
  for (std::string bad : {"", "/etc/passwd", "../escape", "a/../b", "./a", "a//b", "a/"}) {
    SCOPED_TRACE("path '" + bad + "'");
    EXPECT_EQ(open(bad).code(), Errc::invalid_argument);
    EXPECT_EQ(rename(bad, "ok").code(), Errc::invalid_argument);
    EXPECT_EQ(rename("ok", bad).code(), Errc::invalid_argument);
    EXPECT_EQ(remove(bad).code(), Errc::invalid_argument);
    EXPECT_EQ(mkdir(bad).code(), Errc::invalid_argument);
  }
  EXPECT_EQ(list("..").code(), Errc::invalid_argument);
  EXPECT_EQ(fsync_dir("/tmp").code(), Errc::invalid_argument);
}

TEST_F(PosixDisk, MkdirListAndFsyncDir) {
  ASSERT_TRUE(mkdir("topic-1").ok());
  ASSERT_TRUE(mkdir("a-dir").ok());
  EXPECT_EQ(mkdir("a-dir").code(), Errc::already_exists);
  EXPECT_EQ(mkdir("nope/child").code(), Errc::not_found);
  ASSERT_NE(must_open("topic-1/00000.log"), nullptr);
  ASSERT_NE(must_open("b.meta"), nullptr);
  ASSERT_NE(must_open("a.meta"), nullptr);
  auto names = list("");
  ASSERT_TRUE(names.ok()) << names.status().to_string();
  EXPECT_EQ(*names, (std::vector<std::string>{"a-dir/", "a.meta", "b.meta", "topic-1/"}));
  auto inside = list("topic-1");
  ASSERT_TRUE(inside.ok()) << inside.status().to_string();
  EXPECT_EQ(*inside, (std::vector<std::string>{"00000.log"}));
  EXPECT_EQ(list("missing").code(), Errc::not_found);
  EXPECT_TRUE(fsync_dir("").ok());
  EXPECT_TRUE(fsync_dir("topic-1").ok());
  EXPECT_EQ(fsync_dir("missing").code(), Errc::not_found);
}

TEST_F(PosixDisk, RenameReplacesTarget) {
  ASSERT_TRUE(append(must_open("meta.tmp"), "new").ok());
  ASSERT_TRUE(append(must_open("meta"), "old").ok());
  ASSERT_TRUE(rename("meta.tmp", "meta").ok());
  EXPECT_EQ(on_disk("meta"), "new");
  EXPECT_EQ(on_disk("meta.tmp"), "<missing>");
  EXPECT_EQ(rename("meta.tmp", "meta").code(), Errc::not_found);
  EXPECT_TRUE(fsync_dir("").ok());
}

TEST_F(PosixDisk, RemoveFilesAndEmptyDirectories) {
  ASSERT_TRUE(mkdir("d").ok());
  ASSERT_NE(must_open("d/f"), nullptr);
  EXPECT_EQ(remove("d").code(), Errc::io_error) << "a non-empty directory stays";
  ASSERT_TRUE(remove("d/f").ok());
  ASSERT_TRUE(remove("d").ok());
  EXPECT_EQ(remove("d").code(), Errc::not_found);
  auto names = list("");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(PosixDisk, CompletionsNeverRunInsideTheCall) {
  bool returned = false;
  bool ran_inside = false;
  bool done = false;
  disk_->open("f", OpenMode::open_or_create, [&](Result<FilePtr> f) {
    ran_inside = !returned;
    done = true;
    EXPECT_TRUE(f.ok());
  });
  returned = true;
  ASSERT_TRUE(loop_->run_until([&] { return done; }, kWait));
  EXPECT_FALSE(ran_inside);
}

TEST_F(PosixDisk, FileOutlivesDisk) {
  FilePtr f = must_open("f");
  disk_.reset();
  auto at = append(f, "still works");
  ASSERT_TRUE(at.ok()) << at.status().to_string();
  EXPECT_EQ(read(f, 0, 64), "still works");
}

TEST_F(PosixDisk, CreateOnMissingRootIsNotFound) {
  auto disk = disk::PosixDisk::create(*loop_, root_ + "/no-such-dir");
  EXPECT_EQ(disk.code(), Errc::not_found);
}

TEST_F(PosixDisk, QuotaGivesNoSpace) {
  make_disk({.quota_bytes = 100});
  FilePtr f = must_open("seg.log");
  ASSERT_TRUE(append(f, std::string(60, 'a')).ok());
  auto over = append(f, std::string(50, 'b'));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.code(), Errc::no_space) << over.status().to_string();
  EXPECT_EQ(f->size(), 60u);
  EXPECT_EQ(pwrite(f, 90, "0123456789x").code(), Errc::no_space);
  EXPECT_EQ(truncate(f, 101).code(), Errc::no_space);
  auto fill = append(f, std::string(40, 'c'));  // exactly up to the quota
  ASSERT_TRUE(fill.ok()) << fill.status().to_string();
  EXPECT_EQ(append(f, "d").code(), Errc::no_space);
  EXPECT_NE(must_open("other"), nullptr) << "an empty file costs nothing";
  EXPECT_EQ(disk_->used_bytes(), 100u);
  EXPECT_TRUE(fsync(f).ok());
  EXPECT_EQ(on_disk("seg.log"), std::string(60, 'a') + std::string(40, 'c'));
  // Overwriting in place needs no new space.
  EXPECT_TRUE(pwrite(f, 0, "zz").ok());
  // Truncating frees space for more appends.
  ASSERT_TRUE(truncate(f, 50).ok());
  EXPECT_EQ(disk_->used_bytes(), 50u);
  EXPECT_TRUE(append(f, std::string(50, 'e')).ok());
  EXPECT_EQ(append(f, "f").code(), Errc::no_space);
}

TEST_F(PosixDisk, QuotaCountsExistingFilesAndFreesOnRemoveAndRename) {
  ASSERT_TRUE(mkdir("t").ok());
  ASSERT_TRUE(append(must_open("t/a"), std::string(30, 'a')).ok());
  ASSERT_TRUE(append(must_open("b"), std::string(20, 'b')).ok());
  make_disk({.quota_bytes = 64});
  EXPECT_EQ(disk_->used_bytes(), 50u);
  FilePtr c = must_open("c");
  EXPECT_EQ(append(c, std::string(15, 'c')).code(), Errc::no_space);
  ASSERT_TRUE(remove("b").ok());
  EXPECT_EQ(disk_->used_bytes(), 30u);
  ASSERT_TRUE(append(c, std::string(15, 'c')).ok());
  ASSERT_TRUE(rename("c", "t/a").ok());  // replaces 30 bytes with 15
  EXPECT_EQ(disk_->used_bytes(), 15u);
  ASSERT_TRUE(rename("t/a", "t/a").ok());  // onto itself: nothing replaced
  EXPECT_EQ(disk_->used_bytes(), 15u);
}

}  // namespace
}  // namespace gregor::posix_disk_test
