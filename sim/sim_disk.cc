// SimDisk: the operation queue, file handles and file data operations. Namespace operations live
// in sim_disk_ops.cc, crash and fault injection in sim_disk_fault.cc.
#include "sim/sim_disk.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/assert.h"

namespace gregor::sim {

using simdisk::FileOp;
using simdisk::Inode;
using simdisk::kRootDir;
using simdisk::kSectorBytes;

namespace {

Status dead_handle(const std::string& path) {
  return errorf(Errc::cancelled, "'{}' was opened before the disk crashed", path);
}
}  // namespace

// A File of the seam. It pins its inode (so an unlinked file stays readable, as on POSIX) and is
// pinned by its own queued operations (so closing it never drops a completion).
class SimDisk::Handle final : public disk::File, public std::enable_shared_from_this<Handle> {
 public:
  Handle(SimDisk& disk, std::shared_ptr<Inode> inode, std::string path)
      : disk_(disk), inode_(std::move(inode)), path_(std::move(path)), epoch_(disk.epoch_) {}

  const std::string& path() const override { return path_; }
  uint64_t size() const override { return live() ? inode_->current.size() : 0; }

  void pread(uint64_t position, size_t len, ReadFn done) override {
    call(disk_.options_.op_latency, std::move(done), [position, len](Handle& h) {
      return h.disk_.do_pread(*h.inode_, h.path_, position, len);
    });
  }
  void pwrite(uint64_t position, Bytes data, disk::StatusFn done) override {
    call(disk_.options_.op_latency, std::move(done),
         [position, data = std::move(data)](Handle& h) mutable {
           return h.disk_.do_write(*h.inode_, h.path_, position, std::move(data));
         });
  }
  void append(Bytes data, AppendFn done) override {
    call(disk_.options_.op_latency, std::move(done),
         [data = std::move(data)](Handle& h) mutable -> Result<uint64_t> {
           // The position is decided at completion, when earlier queued writes have landed.
           uint64_t position = h.inode_->current.size();
           Status s = h.disk_.do_write(*h.inode_, h.path_, position, std::move(data));
           if (!s.ok()) return s;
           return position;
         });
  }
  void truncate(uint64_t size, disk::StatusFn done) override {
    call(disk_.options_.op_latency, std::move(done),
         [size](Handle& h) { return h.disk_.do_truncate(*h.inode_, h.path_, size); });
  }
  void fsync(disk::StatusFn done) override {
    call(disk_.options_.fsync_latency, std::move(done),
         [](Handle& h) { return h.disk_.do_fsync(*h.inode_, h.path_); });
  }

 private:
  bool live() const { return epoch_ == disk_.epoch_; }

  // Queues body(*this) and hands its result to done at completion. A dead handle still answers
  // through the queue (never inside the call), with cancelled.
  template <typename Done, typename Body>
  void call(const Latency& latency, Done done, Body body) {
    if (!live()) {
      disk_.submit(Duration::zero(), [done = std::move(done), path = path_](const Status&) {
        done(dead_handle(path));
      });
      return;
    }
    disk_.submit(disk_.sample(latency), [self = shared_from_this(), done = std::move(done),
                                         body = std::move(body)](const Status& abandoned) mutable {
      if (!abandoned.ok()) return done(abandoned);
      done(body(*self));
    });
  }

  SimDisk& disk_;
  std::shared_ptr<Inode> inode_;
  std::string path_;
  uint64_t epoch_;
};

SimDisk::SimDisk(World& world, NodeId owner, Options options)
    : world_(world),
      owner_(owner),
      options_(std::move(options)),
      name_(options_.name.empty() ? world.node_name(owner) : options_.name),
      latency_rng_(&world.rng("disk/" + name_)),
      fault_rng_(&world.rng("disk/" + name_ + "/faults")),
      life_(std::make_shared<char>(0)),
      next_id_(kRootDir + 1) {
  GREGOR_ASSERT(owner != kWorldNode, "a SimDisk belongs to a node");
  dirs_[kRootDir] = simdisk::Dir{};
}

SimDisk::~SimDisk() = default;

// --- the queue

Duration SimDisk::sample(const Latency& latency) {
  // Exponential tail by inversion; capped so a rare draw cannot stall a run for hours.
  double u = latency_rng_->unit();
  double tail = -std::log1p(-u) * static_cast<double>(latency.tail_mean.count());
  Duration cap = std::max(latency.max, latency.min);
  double room = static_cast<double>((cap - latency.min).count());
  return latency.min + Duration(static_cast<int64_t>(std::min(tail, room)));
}

void SimDisk::submit(Duration latency, OpFn run) {
  if (queue_.size() >= options_.in_flight_max) {
    // A runaway caller gets an error (ahead of the queued calls) rather than unbounded memory.
    world_.at(world_.now(), owner_, [run = std::move(run), life = std::weak_ptr<char>(life_)] {
      if (!life.expired()) run(error(Errc::limit_exceeded, "disk in_flight_max reached"));
    });
    return;
  }
  maybe_stall();
  MonoTime due = std::max({last_due_, world_.now() + latency, stall_until_});
  last_due_ = due;
  queue_.push_back(QueuedOp{due, world_.incarnation(owner_), std::move(run)});
  schedule_pump(due);
}

void SimDisk::schedule_pump(MonoTime at) {
  world_.at(at, owner_, [this, life = std::weak_ptr<char>(life_)] {
    if (!life.expired()) pump();
  });
}

// Runs every queued operation that is due, in order. Each operation has its own pump event at
// its due time, but a stall begun after it was queued holds it (and all after it) back, so the
// pump rather than the event decides what runs: that keeps submission order under stalls.
void SimDisk::pump() {
  uint32_t incarnation = world_.incarnation(owner_);
  while (!queue_.empty()) {
    QueuedOp& front = queue_.front();
    if (front.incarnation != incarnation) {  // queued by a killed incarnation: never completes
      queue_.pop_front();
      continue;
    }
    if (front.due > world_.now()) return;  // its own pump event will come
    if (world_.now() < stall_until_) {
      schedule_pump(stall_until_);
      return;
    }
    OpFn run = std::move(front.run);
    queue_.pop_front();
    run(Status::Ok());
  }
}

void SimDisk::abandon_in_flight() {
  std::deque<QueuedOp> queue = std::move(queue_);
  queue_.clear();
  last_due_ = world_.now();
  uint32_t incarnation = world_.incarnation(owner_);
  for (QueuedOp& op : queue) {
    // A killed incarnation gets no callbacks at all; a live one learns its calls were cancelled.
    if (op.incarnation != incarnation) continue;
    world_.at(world_.now(), owner_, [run = std::move(op.run), life = std::weak_ptr<char>(life_)] {
      if (!life.expired()) run(error(Errc::cancelled, "disk crashed"));
    });
  }
}

// --- Disk calls: each queues its do_* and reports the result at completion.

void SimDisk::open(const std::string& path, disk::OpenMode mode, OpenFn done) {
  submit(sample(options_.op_latency), [this, path, mode, done = std::move(done)](const Status& a) {
    if (!a.ok()) return done(a);
    done(do_open(path, mode));
  });
}

void SimDisk::rename(const std::string& from, const std::string& to, disk::StatusFn done) {
  submit(sample(options_.op_latency), [this, from, to, done = std::move(done)](const Status& a) {
    done(a.ok() ? do_rename(from, to) : a);
  });
}

void SimDisk::remove(const std::string& path, disk::StatusFn done) {
  submit(sample(options_.op_latency), [this, path, done = std::move(done)](const Status& a) {
    done(a.ok() ? do_remove(path) : a);
  });
}

void SimDisk::mkdir(const std::string& path, disk::StatusFn done) {
  submit(sample(options_.op_latency), [this, path, done = std::move(done)](const Status& a) {
    done(a.ok() ? do_mkdir(path) : a);
  });
}

void SimDisk::list(const std::string& dir, ListFn done) {
  submit(sample(options_.op_latency), [this, dir, done = std::move(done)](const Status& a) {
    if (!a.ok()) return done(a);
    done(do_list(dir));
  });
}

void SimDisk::fsync_dir(const std::string& dir, disk::StatusFn done) {
  submit(sample(options_.fsync_latency), [this, dir, done = std::move(done)](const Status& a) {
    done(a.ok() ? do_fsync_dir(dir) : a);
  });
}

Result<disk::FilePtr> SimDisk::do_open(const std::string& path, disk::OpenMode mode) {
  GREGOR_RETURN_IF_ERROR(disk::validate_path(path));
  Result<uint64_t> parent = resolve_dir(disk::parent_dir(path));
  if (!parent.ok()) return parent.status();
  simdisk::Dir& dir = dirs_.at(*parent);
  std::string name = disk::base_name(path);
  auto it = dir.current.find(name);
  if (it != dir.current.end()) {
    if (it->second.is_dir) return errorf(Errc::io_error, "'{}' is a directory", path);
    if (mode == disk::OpenMode::create_new) {
      return errorf(Errc::already_exists, "'{}' exists", path);
    }
    return disk::FilePtr(std::make_shared<Handle>(*this, inodes_.at(it->second.id), path));
  }
  if (mode == disk::OpenMode::open_existing) return errorf(Errc::not_found, "no file '{}'", path);
  auto inode = std::make_shared<Inode>();
  inode->id = next_id_++;
  inodes_[inode->id] = inode;
  push_dir_op(dir, simdisk::DirOp{{{name, simdisk::Entry{false, inode->id}}}});
  ++counters_.metadata_ops;
  world_.trace(owner_, "disk.create", TraceFields().add("path", path));
  return disk::FilePtr(std::make_shared<Handle>(*this, std::move(inode), path));
}

// --- file data operations, at completion

Result<ReadBuffer> SimDisk::do_pread(Inode& f, const std::string& path, uint64_t position,
                                     size_t len) {
  if (len > options_.read_bytes_max) {
    return errorf(Errc::limit_exceeded, "read of {} bytes from '{}' over {}", len, path,
                  options_.read_bytes_max);
  }
  ++counters_.reads;
  const Bytes& image = f.current;
  if (position >= image.size() || len == 0) return ReadBuffer{};
  uint64_t end = position + std::min<uint64_t>(len, image.size() - position);
  uint64_t first = position / kSectorBytes;
  uint64_t last = (end - 1) / kSectorBytes;
  if (fault_rng_->chance(options_.faults.read_error_probability)) {
    uint64_t sector = fault_rng_->uniform(first, last);
    if (f.bad_sectors.insert(sector).second) ++counters_.bad_sectors_marked;
    trace_fault("read_error", path, sector * kSectorBytes);
  }
  auto bad = f.bad_sectors.lower_bound(first);
  if (bad != f.bad_sectors.end() && *bad <= last) {
    ++counters_.read_errors;
    return errorf(Errc::io_error, "'{}': bad sector at position {}", path, *bad * kSectorBytes);
  }
  return ReadBuffer(image.begin() + static_cast<ptrdiff_t>(position),
                    image.begin() + static_cast<ptrdiff_t>(end));
}

Status SimDisk::check_growth(uint64_t old_size, uint64_t new_size, const std::string& path) {
  if (new_size > options_.file_bytes_max) {
    return errorf(Errc::limit_exceeded, "'{}' would pass file_bytes_max {}", path,
                  options_.file_bytes_max);
  }
  if (new_size <= old_size) return Status::Ok();
  uint64_t room = options_.quota_bytes > current_bytes_ ? options_.quota_bytes - current_bytes_ : 0;
  if (new_size - old_size > room) {
    ++counters_.no_space;
    trace_fault("no_space", path, old_size);
    return errorf(Errc::no_space, "'{}': quota of {} bytes reached", path, options_.quota_bytes);
  }
  return Status::Ok();
}

Status SimDisk::do_write(Inode& f, const std::string& path, uint64_t position, Bytes data) {
  if (position > options_.file_bytes_max || data.size() > options_.file_bytes_max - position) {
    return errorf(Errc::limit_exceeded, "'{}' would pass file_bytes_max {}", path,
                  options_.file_bytes_max);
  }
  ++counters_.writes;
  if (data.empty()) return Status::Ok();
  uint64_t end = position + data.size();
  GREGOR_RETURN_IF_ERROR(check_growth(f.current.size(), end, path));
  land_write(f, path, position, std::move(data));
  return Status::Ok();
}

Status SimDisk::do_truncate(Inode& f, const std::string& path, uint64_t size) {
  GREGOR_RETURN_IF_ERROR(check_growth(f.current.size(), size, path));
  ++counters_.truncates;
  push_file_op(f, FileOp::resize(size));
  // Freed blocks take their bad sectors with them.
  f.bad_sectors.erase(f.bad_sectors.lower_bound((size + kSectorBytes - 1) / kSectorBytes),
                      f.bad_sectors.end());
  world_.trace(owner_, "disk.truncate", TraceFields().add("path", path).add("size", size));
  return Status::Ok();
}

Status SimDisk::do_fsync(Inode& f, const std::string& path) {
  ++counters_.fsyncs;
  uint64_t bytes = f.pending_bytes();
  if (take_forced_eio(path) || fault_rng_->chance(options_.faults.fsync_eio_probability)) {
    // fsyncgate: the kernel marks the dirty pages clean after a failed writeback, so the data
    // is gone from the cache too. Reads now see the durable image.
    current_bytes_ = current_bytes_ - f.current.size() + f.durable.size();
    f.current = f.durable;
    f.pending.clear();
    ++counters_.fsync_eio;
    counters_.fsync_eio_dropped_bytes += bytes;
    trace_fault("fsync_eio", path, f.durable.size());
    return errorf(Errc::io_error, "fsync of '{}' failed; {} unsynced bytes dropped", path, bytes);
  }
  // Folding the pending ops in costs the dirty bytes, not the file size.
  for (const FileOp& op : f.pending) simdisk::apply(f.durable, op);
  f.pending.clear();
  GREGOR_ASSERT(f.durable.size() == f.current.size(), "fsync of '{}': images differ", path);
  world_.trace(owner_, "disk.fsync", TraceFields().add("path", path).add("bytes", bytes));
  return Status::Ok();
}

void SimDisk::push_file_op(Inode& f, FileOp op) {
  uint64_t before = f.current.size();
  simdisk::apply(f.current, op);
  current_bytes_ = current_bytes_ - before + f.current.size();
  f.pending.push_back(std::move(op));
  while (f.pending.size() > options_.dirty_ops_max) {
    simdisk::apply(f.durable, f.pending.front());
    f.pending.pop_front();
    ++counters_.writebacks;
  }
}

void SimDisk::push_dir_op(simdisk::Dir& d, simdisk::DirOp op) {
  simdisk::apply(d.current, op);
  d.pending.push_back(std::move(op));
  while (d.pending.size() > options_.dirty_ops_max) {
    simdisk::apply(d.durable, d.pending.front());
    d.pending.pop_front();
    ++counters_.writebacks;
  }
}

}  // namespace gregor::sim
