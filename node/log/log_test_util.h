// A partition log on a simulated disk, driven synchronously for tests: each call runs the World
// until its callback fires. crash() kills the process's incarnation, drops unsynced disk data the
// way SimDisk does, and reopens (recovers) the log.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "node/log/log.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/world.h"

namespace gregor::log::testing {

class LogHarness {
 public:
  explicit LogHarness(LogConfig config, uint64_t seed = 1, std::string dir = "t-0")
      : world_(sim::World::Options{seed, {}}),
        node_(world_.add_node("n1")),
        disk_(world_, node_, sim::SimDisk::Options{}),
        clock_(world_, node_),
        network_(world_),
        random_(seed),
        env_{clock_, random_, network_.endpoint(node_), disk_, tracer_, "n1", true},
        config_(config),
        dir_(std::move(dir)) {}

  Status open() {
    std::optional<Result<std::unique_ptr<Log>>> got;
    Log::load(env_, dir_, config_, [&](Result<std::unique_ptr<Log>> r) { got = std::move(r); });
    run([&] { return got.has_value(); });
    if (!got) return error(Errc::timed_out, "open never completed");
    if (!got->ok()) return got->status();
    log_ = std::move(*got).value();
    return Status::Ok();
  }
  Log& log() { return *log_; }

  struct Appended {
    Result<AppendInfo> info = gregor::error(Errc::cancelled, "pending");
    std::optional<AppendError> error;
  };
  Appended append(Bytes batch, int32_t epoch = 0) {
    std::optional<Appended> got;
    log_->append(std::move(batch), epoch, [&](Result<AppendInfo> r, std::optional<AppendError> e) {
      got = Appended{std::move(r), std::move(e)};
    });
    run([&] { return got.has_value(); });
    return got ? std::move(*got) : Appended{};
  }
  Result<AppendInfo> append_as_follower(Bytes records) {
    std::optional<Result<AppendInfo>> got;
    log_->append_as_follower(std::move(records), [&](Result<AppendInfo> r) { got = std::move(r); });
    run([&] { return got.has_value(); });
    return got ? std::move(*got)
               : Result<AppendInfo>(gregor::error(Errc::timed_out, "append_as_follower"));
  }
  // Every batch from `offset` (a batch boundary) to the log end, back to back, as fetches
  // return them.
  Bytes read_all(int64_t offset) {
    Bytes out;
    while (offset < log_->log_end_offset()) {
      auto r = read(offset);
      if (!r.ok()) {
        ADD_FAILURE() << "read " << offset << ": " << r.status();
        break;
      }
      if (r->batches.empty()) {
        ADD_FAILURE() << "read " << offset << " returned nothing below the log end";
        break;
      }
      BatchIterator it(r->batches);
      while (auto b = it.next()) offset = parse_batch_header(*b).value().last_offset() + 1;
      out.insert(out.end(), r->batches.begin(), r->batches.end());
    }
    return out;
  }
  Result<ReadResult> read(int64_t offset, size_t max_bytes = 1 << 20) {
    std::optional<Result<ReadResult>> got;
    log_->read(offset, max_bytes, [&](Result<ReadResult> r) { got = std::move(r); });
    run([&] { return got.has_value(); });
    return got ? std::move(*got) : Result<ReadResult>(error(Errc::timed_out, "read"));
  }
  template <typename Call>
  Status wait_status(Call call) {
    std::optional<Status> got;
    call([&](const Status& s) { got = s; });
    run([&] { return got.has_value(); });
    return got ? *got : error(Errc::timed_out, "never completed");
  }
  Status flush() {
    return wait_status([&](auto cb) { log_->flush(cb); });
  }
  Status truncate_to(int64_t o) {
    return wait_status([&](auto cb) { log_->truncate_to(o, cb); });
  }
  Status retention() {
    return wait_status([&](auto cb) { log_->enforce_retention(cb); });
  }
  Status advance_start(int64_t o) {
    return wait_status([&](auto cb) { log_->advance_log_start(o, cb); });
  }
  Status close() {
    return wait_status([&](auto cb) { log_->close(cb); });
  }

  // Crash and reopen. lose_unsynced: a power loss (SimDisk keeps a random prefix of unsynced
  // writes); otherwise a process crash with the page cache intact.
  void crash(bool lose_unsynced) {
    log_.reset();
    world_.kill(node_);
    if (lose_unsynced) {
      disk_.crash(world_.rng("crash"));
    } else {
      disk_.process_crash();
    }
    world_.revive(node_);
  }
  Status crash_and_reopen(bool lose_unsynced) {
    crash(lose_unsynced);
    return open();
  }
  // Flips one bit of a file's byte through the seam (as a stray write would), and syncs it.
  Status flip_byte(const std::string& path, uint64_t position) {
    auto image = disk_.current_contents(path);
    if (!image || position >= image->size()) return error(Errc::out_of_range, path);
    Bytes one = {static_cast<uint8_t>((*image)[position] ^ 0x01)};
    disk::FilePtr file;
    return wait_status([&](auto cb) {
      disk_.open(path, disk::OpenMode::open_existing, [&, cb, one](Result<disk::FilePtr> f) {
        if (!f.ok()) return cb(f.status());
        file = *f;
        file->pwrite(position, one, [&, cb](const Status& s) {
          if (!s.ok()) return cb(s);
          file->fsync(cb);
        });
      });
    });
  }

  // Runs at most n events of the world (to stop an operation part-way).
  void step(int n) {
    for (int i = 0; i < n && world_.step(); ++i) {
    }
  }
  sim::World& world() { return world_; }
  // Hands the open log to its new owner (a broker Partition in its tests); the harness keeps
  // driving the world.
  std::unique_ptr<Log> release() { return std::move(log_); }
  // Runs the world until `pred` holds (bounded).
  void run_until(const std::function<bool()>& pred) { run(pred); }
  sim::SimDisk& disk() { return disk_; }
  sim::SimClock& clock() { return clock_; }
  const std::string& dir() const { return dir_; }

 private:
  void run(const std::function<bool()>& pred) {
    world_.run_until(pred, world_.now() + seconds(600));
  }

  sim::World world_;
  sim::NodeId node_;
  sim::SimDisk disk_;
  sim::SimClock clock_;
  sim::SimNetwork network_;
  Random random_;
  NullTracer tracer_;
  Env env_;
  LogConfig config_;
  std::string dir_;
  std::unique_ptr<Log> log_;
};

// A batch of `count` records whose values name (tag, i), with CreateTime `timestamp`.
inline Bytes make_batch(int tag, int count, int64_t timestamp = 1000, size_t value_bytes = 16,
                        int64_t producer_id = -1, int16_t producer_epoch = -1,
                        int32_t base_sequence = -1) {
  BatchBuilder::Options o;
  o.producer_id = producer_id;
  o.producer_epoch = producer_epoch;
  o.base_sequence = base_sequence;
  BatchBuilder b(o);
  for (int i = 0; i < count; ++i) {
    std::string v = std::to_string(tag) + ":" + std::to_string(i);
    v.resize(std::max(v.size(), value_bytes), '.');
    std::string k = "k" + std::to_string(i % 7);
    b.add(timestamp + i, as_bytes(k), as_bytes(v));
  }
  return b.build().value();
}

// Every record value in the batches, in order, with its offset.
inline std::vector<std::pair<int64_t, std::string>> values_of(ByteView batches) {
  std::vector<std::pair<int64_t, std::string>> out;
  BatchIterator it(batches);
  while (auto b = it.next()) {
    auto records = decode_records(*b);
    if (!records.ok()) break;
    for (auto& r : *records) {
      out.emplace_back(r.offset, r.value ? std::string(as_chars(*r.value)) : "<null>");
    }
  }
  return out;
}

}  // namespace gregor::log::testing
