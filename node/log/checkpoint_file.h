// CheckpointFile: a small key -> int64 file on the Disk seam (the log's high watermark, recovery
// point and log start offset checkpoints, the leader epoch cache), replaced atomically: after a
// crash at any moment a read sees either the previous complete contents or the new ones, never a
// mixture, and a write that reported ok survives any later crash.
//
// Write protocol (the textbook atomic replace, as Kafka's CheckpointFile does with
// Files.write + fsync + atomicMoveWithFallback): open `<path>.tmp` (creating it), truncate it to
// 0, pwrite the whole encoding, fsync it, rename it over `<path>`, fsync_dir of the parent
// directory. The parent directory must exist (and be durable) before the first write.
//
// Concurrency: one write runs at a time per CheckpointFile. A write() issued while another is
// running waits; several waiting writes coalesce and only the latest entries are written ("the
// later one wins"). Each done runs once, with the Status of the write that made its entries,
// or newer ones, durable (or failed trying). read() is not serialized with writes: it sees the
// old or the new file, each complete. Use one CheckpointFile per path: two objects writing the
// same path would share the temp file.
//
// Lifetime: callbacks never run inside the call that registered them, and never after the
// CheckpointFile is destroyed (an abandoned write leaves the previous file intact; the temp file
// is overwritten by the next write). The Disk must outlive the CheckpointFile.
//
// File format: Kafka's checkpoint text (a version line "0", a count line, then one
// "<key> <value>" line per entry, each line ending in '\n'), plus our final line
// "crc32c <8 lower-case hex digits>\n", the CRC32C of every byte before that line (Kafka has no
// checksum here). Keys are non-empty printable ASCII without spaces (0x21..0x7e); values are
// decimal int64. Entries keep their order; duplicate keys are allowed by the format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "disk/disk.h"

namespace gregor::log {

using CheckpointEntries = std::vector<std::pair<std::string, int64_t>>;

// Named limits: a checkpoint file larger than this is not one of ours.
inline constexpr size_t kCheckpointBytesMax = size_t{8} << 20;
inline constexpr std::string_view kCheckpointTempSuffix = ".tmp";

class CheckpointFile {
 public:
  using ReadFn = std::function<void(Result<CheckpointEntries>)>;

  CheckpointFile(disk::Disk& disk, std::string path);
  ~CheckpointFile();
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  // True while a write is running (its done has not run yet).
  bool writing() const { return writing_; }

  // Replaces the file with `entries` (protocol above). Every key must satisfy valid_key()
  // (asserted: keys come from code). done gets ok once the new contents are durable; otherwise
  // the disk's error (io_error, no_space, ...), or limit_exceeded if the encoding is larger than
  // kCheckpointBytesMax (nothing written). After an error the file holds the old or the new
  // contents; a later successful write settles it.
  void write(CheckpointEntries entries, disk::StatusFn done) {
    start_write(std::move(entries), std::move(done));
  }
  // Reads the file: its entries; Errc::not_found if it does not exist; Errc::corrupt if it is
  // damaged in any way (bad CRC, bad version, count, key or number, truncated, too large);
  // other disk errors (io_error on a bad sector) as the disk reports them. Never asserts.
  void read(ReadFn done) { start_read(std::move(done)); }

  // The codec, exposed for tests and tools. decode never asserts, whatever the bytes.
  static Bytes encode(const CheckpointEntries& entries);
  static Result<CheckpointEntries> decode(ByteView bytes);
  static bool valid_key(std::string_view key);

 private:
  struct WriteJob;

  void start_write(CheckpointEntries entries, disk::StatusFn done);
  void start_read(ReadFn done);
  void write_next();
  void write_finished(const std::shared_ptr<WriteJob>& job, const Status& status);

  disk::Disk& disk_;
  std::string path_;
  std::string temp_path_;
  std::string dir_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool writing_ = false;
  // Writes asked for while one runs: the latest entries and everyone waiting for them.
  std::optional<CheckpointEntries> pending_;
  std::vector<disk::StatusFn> pending_done_;
};

}  // namespace gregor::log
