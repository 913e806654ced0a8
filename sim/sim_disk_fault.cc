// SimDisk: power loss, process crash, wipe and the injected faults. Every injection is counted
// and traced as "disk.fault" so a run's trace explains each surprising byte.
#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "sim/sim_disk.h"

namespace gregor::sim {

using simdisk::Dir;
using simdisk::FileOp;
using simdisk::Inode;
using simdisk::kRootDir;
using simdisk::kSectorBytes;

void SimDisk::trace_fault(std::string_view kind, const std::string& path, uint64_t position) {
  world_.trace(owner_, "disk.fault",
               TraceFields().add("kind", kind).add("path", path).add("position", position));
}

// --- stalls and forced EIO

void SimDisk::maybe_stall() {
  if (fault_rng_->chance(options_.faults.stall_probability)) {
    stall(world_.now() + options_.faults.stall_duration);
  }
}

void SimDisk::stall(MonoTime until) {
  if (until <= world_.now() || until <= stall_until_) return;
  stall_until_ = until;
  ++counters_.stalls;
  world_.trace(owner_, "disk.fault",
               TraceFields()
                   .add("kind", "stall")
                   .add("path", "")
                   .add("position", uint64_t{0})
                   .add("duration_ns", to_ns(until - world_.now())));
}

void SimDisk::fail_next_fsync(std::string path) {
  forced_eio_ = std::move(path);
}

bool SimDisk::take_forced_eio(const std::string& path) {
  if (!forced_eio_ || !(forced_eio_->empty() || *forced_eio_ == path)) return false;
  forced_eio_.reset();
  return true;
}

// --- faults on the write path

void SimDisk::land_write(Inode& f, const std::string& path, uint64_t position, Bytes data) {
  const Faults& faults = options_.faults;
  if (fault_rng_->chance(faults.write_bit_flip_probability)) {
    uint64_t i = fault_rng_->uniform(0, data.size() - 1);
    data[i] ^= static_cast<uint8_t>(1u << fault_rng_->uniform(0, 7));
    ++counters_.bit_flips_on_write;
    trace_fault("bit_flip_on_write", path, position + i);
  }
  uint64_t len = data.size();
  std::optional<uint64_t> landed;
  if (fault_rng_->chance(faults.misdirected_write_probability))
    landed = misdirect(f, position, len);
  if (landed) {
    // The file system still records the intended size; the intended range keeps its old bytes
    // (zeros past the old end) and the data overwrites a sector-aligned range elsewhere.
    uint64_t end = position + len;
    if (end > f.current.size()) push_file_op(f, FileOp::resize(end));
    ++counters_.misdirected_writes;
    world_.trace(owner_, "disk.fault",
                 TraceFields()
                     .add("kind", "misdirected_write")
                     .add("path", path)
                     .add("position", position)
                     .add("landed", *landed));
  }
  uint64_t at = landed.value_or(position);
  heal(f, at, len);
  push_file_op(f, FileOp::write(at, std::move(data)));
}

// A sector-aligned start other than `position` where len bytes fit inside the file as it will
// be after the write; nullopt if there is none (then the write lands where intended).
std::optional<uint64_t> SimDisk::misdirect(const Inode& f, uint64_t position, uint64_t len) {
  uint64_t size = std::max<uint64_t>(f.current.size(), position + len);
  uint64_t starts = (size - len) / kSectorBytes + 1;  // aligned starts 0, 512, ... <= size - len
  bool skip = position % kSectorBytes == 0 && position / kSectorBytes < starts;
  if (starts - (skip ? 1 : 0) == 0) return std::nullopt;
  uint64_t pick = fault_rng_->uniform(0, starts - (skip ? 2 : 1));
  if (skip && pick >= position / kSectorBytes) ++pick;
  return pick * kSectorBytes;
}

// The drive remaps a bad sector when it is written: any write over it heals it.
void SimDisk::heal(Inode& f, uint64_t position, uint64_t len) {
  if (len == 0 || f.bad_sectors.empty()) return;
  auto first = f.bad_sectors.lower_bound(position / kSectorBytes);
  auto last = f.bad_sectors.upper_bound((position + len - 1) / kSectorBytes);
  counters_.bad_sectors_healed += static_cast<uint64_t>(std::distance(first, last));
  f.bad_sectors.erase(first, last);
}

// --- faults at rest

bool SimDisk::mark_bad_sector() {
  std::vector<Inode*> candidates;
  for (auto& [id, f] : inodes_) {
    if (!f->current.empty()) candidates.push_back(f.get());
  }
  if (candidates.empty()) return false;
  Inode& f = *candidates[fault_rng_->uniform(0, candidates.size() - 1)];
  uint64_t sector = fault_rng_->uniform(0, (f.current.size() - 1) / kSectorBytes);
  if (f.bad_sectors.insert(sector).second) ++counters_.bad_sectors_marked;
  trace_fault("bad_sector", path_of(f.id), sector * kSectorBytes);
  return true;
}

bool SimDisk::mark_bad_sector(const std::string& path, uint64_t sector) {
  std::optional<simdisk::Entry> e = lookup(path, View::current);
  if (!e || e->is_dir) return false;
  Inode& f = *inodes_.at(e->id);
  if (sector >= (f.current.size() + kSectorBytes - 1) / kSectorBytes) return false;
  if (f.bad_sectors.insert(sector).second) ++counters_.bad_sectors_marked;
  trace_fault("bad_sector", path, sector * kSectorBytes);
  return true;
}

bool SimDisk::flip_random_bit() {
  std::vector<Inode*> candidates;
  for (auto& [id, f] : inodes_) {
    if (!f->durable.empty()) candidates.push_back(f.get());
  }
  if (candidates.empty()) return false;
  Inode& f = *candidates[fault_rng_->uniform(0, candidates.size() - 1)];
  uint64_t position = fault_rng_->uniform(0, f.durable.size() - 1);
  f.durable[position] ^= static_cast<uint8_t>(1u << fault_rng_->uniform(0, 7));
  // The page cache holds the same media bytes except where a dirty write covers them:
  // replaying the dirty ops over the flipped media gives exactly that.
  f.current = f.durable;
  for (const FileOp& op : f.pending) simdisk::apply(f.current, op);
  ++counters_.bit_flips_at_rest;
  trace_fault("bit_flip_at_rest", path_of(f.id), position);
  return true;
}

// --- crash, process crash, wipe

void SimDisk::crash_file(Inode& f, Random& rng) {
  size_t n = f.pending.size();
  if (n > 0) {
    size_t keep = rng.uniform(0, n);
    for (size_t i = 0; i < keep; ++i) {
      const FileOp& op = f.pending[i];
      bool last_write = i + 1 == keep && op.kind == FileOp::Kind::write && !op.data.empty();
      if (last_write && rng.chance(options_.torn_write_probability)) {
        uint64_t pieces = rng.uniform(0, simdisk::sector_pieces(op) - 1);
        FileOp part = simdisk::torn(op, pieces);
        counters_.crash_lost_bytes += op.bytes() - part.bytes();
        ++counters_.crash_lost_ops;
        ++counters_.torn_writes;
        trace_fault("torn_write", path_of(f.id), op.position + part.bytes());
        simdisk::apply(f.durable, part);
      } else {
        simdisk::apply(f.durable, op);
      }
    }
    for (size_t i = keep; i < n; ++i) counters_.crash_lost_bytes += f.pending[i].bytes();
    counters_.crash_lost_ops += n - keep;
  }
  f.pending.clear();
  f.current = f.durable;
  f.bad_sectors.erase(
      f.bad_sectors.lower_bound((f.durable.size() + kSectorBytes - 1) / kSectorBytes),
      f.bad_sectors.end());
}

void SimDisk::crash_dir(Dir& d, Random& rng) {
  size_t n = d.pending.size();
  if (n > 0) {
    size_t keep = rng.uniform(0, n);
    for (size_t i = 0; i < keep; ++i) simdisk::apply(d.durable, d.pending[i]);
    counters_.crash_lost_dir_ops += n - keep;
  }
  d.pending.clear();
  d.current = d.durable;
}

void SimDisk::kill_handles() {
  ++epoch_;
  abandon_in_flight();
}

void SimDisk::crash(Random& rng) {
  Counters before = counters_;
  // Torn-write traces name paths in the pre-crash namespace, so files go first.
  for (auto& [id, f] : inodes_) crash_file(*f, rng);
  for (auto& [id, d] : dirs_) crash_dir(d, rng);
  ++counters_.crashes;
  kill_handles();
  collect_garbage(/*keep_open=*/false);
  world_.trace(owner_, "disk.crash",
               TraceFields()
                   .add("lost_ops", counters_.crash_lost_ops - before.crash_lost_ops)
                   .add("lost_bytes", counters_.crash_lost_bytes - before.crash_lost_bytes)
                   .add("lost_dir_ops", counters_.crash_lost_dir_ops - before.crash_lost_dir_ops)
                   .add("torn_writes", counters_.torn_writes - before.torn_writes));
}

void SimDisk::process_crash() {
  ++counters_.process_crashes;
  kill_handles();
  collect_garbage(/*keep_open=*/false);  // unlinked files open only by the process are freed
  world_.trace(owner_, "disk.process_crash");
}

void SimDisk::wipe() {
  inodes_.clear();
  dirs_.clear();
  dirs_[kRootDir] = Dir{};
  current_bytes_ = 0;
  ++counters_.wipes;
  kill_handles();
  trace_fault("wipe", "", 0);
}

}  // namespace gregor::sim
