#include "sim/sim_disk_image.h"

#include <algorithm>

#include "base/assert.h"

namespace gregor::sim::simdisk {

void apply(Bytes& image, const FileOp& op) {
  switch (op.kind) {
    case FileOp::Kind::resize:
      image.resize(op.position, 0);
      return;
    case FileOp::Kind::write: {
      if (op.data.empty()) return;
      uint64_t end = op.position + op.data.size();
      if (image.size() < end) image.resize(end, 0);
      std::copy(op.data.begin(), op.data.end(),
                image.begin() + static_cast<ptrdiff_t>(op.position));
      return;
    }
  }
  GREGOR_UNREACHABLE("bad FileOp kind");
}

uint64_t sector_pieces(const FileOp& op) {
  GREGOR_ASSERT(op.kind == FileOp::Kind::write);
  if (op.data.empty()) return 0;
  uint64_t first = op.position / kSectorBytes;
  uint64_t last = (op.position + op.data.size() - 1) / kSectorBytes;
  return last - first + 1;
}

FileOp torn(const FileOp& op, uint64_t pieces) {
  GREGOR_ASSERT(pieces < sector_pieces(op), "tearing {} of {} pieces", pieces, sector_pieces(op));
  if (pieces == 0) return FileOp::write(op.position, {});
  // The end of piece number `pieces` is the pieces-th sector boundary after the start.
  uint64_t boundary = (op.position / kSectorBytes + pieces) * kSectorBytes;
  uint64_t landed = boundary - op.position;
  return FileOp::write(op.position,
                       Bytes(op.data.begin(), op.data.begin() + static_cast<ptrdiff_t>(landed)));
}

uint64_t Inode::pending_bytes() const {
  uint64_t n = 0;
  for (const FileOp& op : pending) n += op.bytes();
  return n;
}

void apply(Table& table, const DirOp& op) {
  for (const auto& [name, entry] : op.changes) {
    if (entry) {
      table[name] = *entry;
    } else {
      table.erase(name);
    }
  }
}

}  // namespace gregor::sim::simdisk
