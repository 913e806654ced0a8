// SimDisk: the simulated disk of one node. It outlives the node's incarnations (a crash keeps
// what the platters would keep) and models the Linux page cache plus the disk fault families of
// DESIGN.md section 3.
//
// Timing. Every call is queued and completes later, from the World's event loop, in submission
// order: completion time = max(previous completion, now + a latency sample, end of any stall).
// The effect of an operation (a write landing, a file created) happens at its completion, just
// before its callback runs; File::size() and the *_contents() helpers see completed operations
// only. Completions are events owned by the node, so they are dropped when the node is killed
// and deferred while it is paused. Callbacks never run inside the call that registered them.
//
// Durability (as disk/disk.h states, like Linux): each file has a durable image (what the media
// holds) and a current image (what reads see), plus the ordered writes and truncates since the
// last fsync. File::fsync makes the current image durable. A directory entry change (create,
// rename, remove, mkdir) is durable only after fsync_dir of its directory. crash() keeps, per
// file and per directory, an arbitrary prefix of the unsynced operations, the last write
// possibly torn at a 512-byte sector boundary, then throws away everything volatile.
//
// Faults, each counted in Counters and traced as a "disk.fault" line (kind, path, position):
// latency, stalls, ENOSPC at a quota, EIO on fsync dropping the dirty data, latent sector read
// errors, bit flips (at rest and on write), misdirected writes, wipe. Randomness comes from the
// world streams "disk/<name>" (latency) and "disk/<name>/faults" (fault draws), and crash()'s
// argument, so a run replays from its seed and enabling a fault does not shift latencies.
//
// File handles and pending operations must not outlive the SimDisk.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/random.h"
#include "base/status.h"
#include "base/time.h"
#include "disk/disk.h"
#include "sim/sim_disk_image.h"
#include "sim/world.h"

namespace gregor::sim {

class SimDisk final : public disk::Disk {
 public:
  // min + an exponential tail of mean tail_mean, capped at max.
  struct Latency {
    Duration min{};
    Duration tail_mean{};
    Duration max{};
  };

  // Probabilistic faults; all off by default. Each probability is per operation of its kind.
  struct Faults {
    double fsync_eio_probability = 0;          // per fsync: fails, dirty data dropped
    double read_error_probability = 0;         // per pread: a sector in range turns bad
    double write_bit_flip_probability = 0;     // per pwrite/append: one bit flipped as it lands
    double misdirected_write_probability = 0;  // per pwrite/append: lands at another position
    double stall_probability = 0;              // per operation: the disk stalls for a while
    Duration stall_duration = milliseconds(200);
  };

  struct Options {
    std::string name;  // trace and rng stream name; empty: the owner's node name
    // Reads, writes, truncates and metadata operations.
    Latency op_latency{microseconds(20), microseconds(40), milliseconds(20)};
    Latency fsync_latency{microseconds(500), milliseconds(1), milliseconds(200)};
    uint64_t quota_bytes = UINT64_MAX;            // bound on the sum of current file sizes (ENOSPC)
    uint64_t file_bytes_max = uint64_t{1} << 32;  // larger files: limit_exceeded (EFBIG)
    size_t read_bytes_max = size_t{256} << 20;    // one pread, as disk::kReadBytesMax
    // Unsynced operations kept per file or directory; past it the oldest are written back
    // (become durable), as the kernel's writeback would. Bounds memory and crash work.
    size_t dirty_ops_max = 4096;
    size_t in_flight_max = 1 << 20;       // queued operations; past it calls fail limit_exceeded
    double torn_write_probability = 0.5;  // at a crash, that the last kept write is torn
    Faults faults;
  };

  struct Counters {
    // Operations completed.
    uint64_t reads = 0;
    uint64_t writes = 0;  // pwrite and append
    uint64_t truncates = 0;
    uint64_t fsyncs = 0;  // including failed ones
    uint64_t fsync_dirs = 0;
    uint64_t metadata_ops = 0;  // create, mkdir, rename, remove
    uint64_t writebacks = 0;    // unsynced operations made durable by the dirty_ops_max bound
    // Power and process faults.
    uint64_t crashes = 0;
    uint64_t crash_lost_ops = 0;    // unsynced file ops not kept (a torn write counts as lost)
    uint64_t crash_lost_bytes = 0;  // unsynced written bytes that did not land
    uint64_t crash_lost_dir_ops = 0;
    uint64_t torn_writes = 0;
    uint64_t process_crashes = 0;
    uint64_t wipes = 0;
    // Fault families.
    uint64_t stalls = 0;
    uint64_t no_space = 0;
    uint64_t fsync_eio = 0;
    uint64_t fsync_eio_dropped_bytes = 0;
    uint64_t read_errors = 0;         // preads failed on a bad sector
    uint64_t bad_sectors_marked = 0;  // latent errors injected (API or probability)
    uint64_t bad_sectors_healed = 0;  // by a write over them
    uint64_t bit_flips_at_rest = 0;
    uint64_t bit_flips_on_write = 0;
    uint64_t misdirected_writes = 0;

    // Faults that change data silently (a checker's excuse for a byte it cannot explain).
    uint64_t corruptions() const {
      return bit_flips_at_rest + bit_flips_on_write + misdirected_writes;
    }
  };

  SimDisk(World& world, NodeId owner, Options options);
  ~SimDisk() override;
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // --- disk::Disk. Errors as disk/posix_disk.h maps them: invalid_argument (bad path),
  // not_found, already_exists, io_error (EISDIR, ENOTDIR, ENOTEMPTY, EINVAL: a directory opened
  // as a file, a file used as a directory, a non-empty directory removed or replaced, a
  // directory moved into itself), no_space, limit_exceeded (read_bytes_max, file_bytes_max,
  // in_flight_max), and cancelled (the disk crashed while the call was queued).
  void open(const std::string& path, disk::OpenMode mode, OpenFn done) override;
  void rename(const std::string& from, const std::string& to, disk::StatusFn done) override;
  void remove(const std::string& path, disk::StatusFn done) override;
  void mkdir(const std::string& path, disk::StatusFn done) override;
  void list(const std::string& dir, ListFn done) override;
  void fsync_dir(const std::string& dir, disk::StatusFn done) override;

  // --- power and process faults, called by the cluster or tests from world events.
  // Power loss (or a crash the cluster treats as one): keeps a random prefix of every file's and
  // directory's unsynced operations (rng decides), discards the rest and all volatile state.
  // Every File opened before is dead (all calls fail cancelled, size() is 0). Queued operations
  // of the owner's live incarnation complete with cancelled; those of a killed one never run.
  void crash(Random& rng);
  // A process crash with the kernel still up: handles die and queued operations are abandoned
  // as in crash(), but the page cache survives (nothing unsynced is lost).
  void process_crash();
  // Everything gone, durable and current: all files and directories (a replaced disk). Handles
  // die as in crash().
  void wipe();
  // The disk answers nothing before `until` (operations queue up; time already passed: no-op).
  void stall(MonoTime until);
  // The next fsync (of `path`, or of any file if empty) fails with io_error, dropping dirty data.
  void fail_next_fsync(std::string path = {});
  // Disarms a fail_next_fsync that has not fired yet (healing: a fault must not outlive it).
  void cancel_fsync_failure() { forced_eio_.reset(); }
  // Marks a random sector of a random non-empty file bad (latent read error). False if no file
  // has data.
  bool mark_bad_sector();
  // Marks sector `sector` (position / 512) of `path` bad. False if no such file or sector.
  bool mark_bad_sector(const std::string& path, uint64_t sector);
  // Flips one random bit of a random file's durable image; the current image shows it unless an
  // unsynced write covers the byte. False if no file has durable data.
  bool flip_random_bit();

  void set_faults(const Faults& faults) { options_.faults = faults; }
  const Faults& faults() const { return options_.faults; }
  void set_quota_bytes(uint64_t quota) { options_.quota_bytes = quota; }

  // --- inspection for tests and checkers (no latency, no faults, no counters).
  // The durable image of the file that `path` names in the durable namespace: exactly what a
  // crash that kept nothing unsynced would leave. nullopt if there is no such file.
  std::optional<Bytes> durable_contents(const std::string& path) const;
  // The current image of the file `path` names now (what a read would return).
  std::optional<Bytes> current_contents(const std::string& path) const;
  // Every path in the current (or durable) namespace, sorted; directories end with '/'.
  std::vector<std::string> paths(bool durable = false) const;
  uint64_t current_bytes() const { return current_bytes_; }
  size_t in_flight() const { return queue_.size(); }
  const Counters& counters() const { return counters_; }
  const std::string& name() const { return name_; }
  NodeId owner() const { return owner_; }

 private:
  class Handle;
  // Runs a queued operation; a non-ok argument means it was abandoned: report that instead.
  using OpFn = std::function<void(const Status& abandoned)>;
  struct QueuedOp {
    MonoTime due;
    uint32_t incarnation;
    OpFn run;
  };
  enum class View : uint8_t { current, durable };

  // Queue (sim_disk.cc).
  Duration sample(const Latency& latency);
  void submit(Duration latency, OpFn run);
  void pump();
  void schedule_pump(MonoTime at);
  void abandon_in_flight();

  // Operations at completion (sim_disk.cc, sim_disk_ops.cc).
  Result<disk::FilePtr> do_open(const std::string& path, disk::OpenMode mode);
  Status do_rename(const std::string& from, const std::string& to);
  Status do_remove(const std::string& path);
  Status do_mkdir(const std::string& path);
  Result<std::vector<std::string>> do_list(const std::string& dir);
  Status do_fsync_dir(const std::string& dir);
  Result<ReadBuffer> do_pread(simdisk::Inode& f, const std::string& path, uint64_t position,
                              size_t len);
  Status do_write(simdisk::Inode& f, const std::string& path, uint64_t position, Bytes data);
  Status do_truncate(simdisk::Inode& f, const std::string& path, uint64_t size);
  Status do_fsync(simdisk::Inode& f, const std::string& path);
  Status check_growth(uint64_t old_size, uint64_t new_size, const std::string& path);
  void push_file_op(simdisk::Inode& f, simdisk::FileOp op);
  void push_dir_op(simdisk::Dir& d, simdisk::DirOp op);

  // Namespace (sim_disk_ops.cc).
  Result<uint64_t> resolve_dir(const std::string& dir, View view = View::current) const;
  std::optional<simdisk::Entry> lookup(const std::string& path, View view) const;
  std::string path_of(uint64_t inode_id) const;
  void collect_garbage(bool keep_open);
  void recount_bytes();

  // Faults (sim_disk_fault.cc).
  void maybe_stall();
  void trace_fault(std::string_view kind, const std::string& path, uint64_t position);
  void land_write(simdisk::Inode& f, const std::string& path, uint64_t position, Bytes data);
  std::optional<uint64_t> misdirect(const simdisk::Inode& f, uint64_t position, uint64_t len);
  void heal(simdisk::Inode& f, uint64_t position, uint64_t len);
  bool take_forced_eio(const std::string& path);
  void crash_file(simdisk::Inode& f, Random& rng);
  void crash_dir(simdisk::Dir& d, Random& rng);
  void kill_handles();

  World& world_;
  NodeId owner_;
  Options options_;
  std::string name_;
  Random* latency_rng_;
  Random* fault_rng_;
  std::shared_ptr<char> life_;  // scheduled events hold a weak_ptr: no call after destruction

  std::map<uint64_t, std::shared_ptr<simdisk::Inode>> inodes_;
  std::map<uint64_t, simdisk::Dir> dirs_;  // kRootDir is always present
  uint64_t next_id_;
  uint64_t current_bytes_ = 0;
  uint64_t epoch_ = 1;  // bumped by crash/wipe: handles of older epochs are dead

  std::deque<QueuedOp> queue_;
  MonoTime last_due_{};
  MonoTime stall_until_{};
  std::optional<std::string> forced_eio_;

  Counters counters_;
};

}  // namespace gregor::sim
