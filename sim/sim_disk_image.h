// SimDisk's data model (internal to sim/sim_disk*): file images, the ops that change them, and
// directory tables. Kept apart from the SimDisk class so that the crash and fault code
// (sim_disk_fault.cc) and the seam code (sim_disk.cc) share one definition of "apply an op".
//
// Invariant kept by SimDisk for every inode and directory: applying `pending` in order to
// `durable` yields `current`. fsync folds the pending ops into the durable image; a crash folds
// in only a prefix (the last write possibly torn) and resets current to durable.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"

namespace gregor::sim::simdisk {

inline constexpr uint64_t kSectorBytes = 512;
inline constexpr uint64_t kRootDir = 1;  // id of the root directory; ids of files and dirs follow

// One change to a file image: a write of bytes at a position (zero-filling any hole before it),
// or a resize (truncate or extend with zeros).
struct FileOp {
  enum class Kind : uint8_t { write, resize };
  Kind kind = Kind::write;
  uint64_t position = 0;  // write: the first byte; resize: the new size
  Bytes data;             // write only

  static FileOp write(uint64_t position, Bytes data) {
    return FileOp{Kind::write, position, std::move(data)};
  }
  static FileOp resize(uint64_t size) { return FileOp{Kind::resize, size, {}}; }
  // Bytes the op carries (what a crash loses if it drops the op).
  uint64_t bytes() const { return data.size(); }
};

// Applies op to image. A write of no bytes changes nothing (not even the size).
void apply(Bytes& image, const FileOp& op);

// A write split at absolute sector boundaries of the file: [pos, b1), [b1, b2), ..., [bm, end).
// Returns the number of pieces (>= 1 for a non-empty write, 0 for an empty one).
uint64_t sector_pieces(const FileOp& op);
// The write with only its first `pieces` pieces kept (pieces < sector_pieces(op)).
FileOp torn(const FileOp& op, uint64_t pieces);

struct Inode {
  uint64_t id = 0;
  Bytes durable;
  Bytes current;
  std::deque<FileOp> pending;      // since the last fsync, in order
  std::set<uint64_t> bad_sectors;  // sector indexes (position / kSectorBytes)
  uint64_t pending_bytes() const;
};

struct Entry {
  bool is_dir = false;
  uint64_t id = 0;  // inode id or directory id (one id space)
  bool operator==(const Entry&) const = default;
};
using Table = std::map<std::string, Entry>;

// Atomic change of one directory table: each name set to an entry or erased (nullopt).
struct DirOp {
  std::vector<std::pair<std::string, std::optional<Entry>>> changes;
};
void apply(Table& table, const DirOp& op);

struct Dir {
  Table durable;
  Table current;
  std::deque<DirOp> pending;  // since the last fsync_dir, in order
};

}  // namespace gregor::sim::simdisk
