// Test helper for SimDisk: one World with one node and its disk, and synchronous wrappers that
// submit a call and run virtual time until its callback fires (or a generous deadline passes,
// reported as timed_out).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/sim_disk.h"
#include "sim/world.h"

namespace gregor::sim::testing {

class DiskHarness {
 public:
  explicit DiskHarness(uint64_t seed, SimDisk::Options options = {}, bool keep_trace = false)
      : world(World::Options{.seed = seed, .trace = {.keep_lines = keep_trace}}),
        node(world.add_node("n1")),
        disk(std::make_unique<SimDisk>(world, node, std::move(options))) {}

  // Starts an operation with a callback taking T and waits for it. The result slot is shared so
  // a callback arriving after a timeout writes into live memory.
  template <typename T, typename Start>
  T await(Start start, Duration deadline = seconds(600)) {
    auto slot = std::make_shared<std::optional<T>>();
    start([slot](T v) { slot->emplace(std::move(v)); });
    world.run_until([&] { return slot->has_value(); }, world.now() + deadline);
    if (!slot->has_value()) return error(Errc::timed_out, "no completion");
    return std::move(**slot);
  }

  Result<disk::FilePtr> open(const std::string& path,
                             disk::OpenMode mode = disk::OpenMode::open_or_create) {
    return await<Result<disk::FilePtr>>([&](auto cb) { disk->open(path, mode, cb); });
  }
  Status pwrite(const disk::FilePtr& f, uint64_t position, Bytes data) {
    return await<Status>([&](auto cb) { f->pwrite(position, std::move(data), cb); });
  }
  Result<uint64_t> append(const disk::FilePtr& f, Bytes data) {
    return await<Result<uint64_t>>([&](auto cb) { f->append(std::move(data), cb); });
  }
  // As Bytes, so tests compare with plain byte vectors.
  Result<Bytes> pread(const disk::FilePtr& f, uint64_t position, size_t len) {
    auto r = await<Result<ReadBuffer>>([&](auto cb) { f->pread(position, len, cb); });
    if (!r.ok()) return r.status();
    return Bytes(r->begin(), r->end());
  }
  Status truncate(const disk::FilePtr& f, uint64_t size) {
    return await<Status>([&](auto cb) { f->truncate(size, cb); });
  }
  Status fsync(const disk::FilePtr& f) {
    return await<Status>([&](auto cb) { f->fsync(cb); });
  }
  Status mkdir(const std::string& path) {
    return await<Status>([&](auto cb) { disk->mkdir(path, cb); });
  }
  Status rename(const std::string& from, const std::string& to) {
    return await<Status>([&](auto cb) { disk->rename(from, to, cb); });
  }
  Status remove(const std::string& path) {
    return await<Status>([&](auto cb) { disk->remove(path, cb); });
  }
  Status fsync_dir(const std::string& dir) {
    return await<Status>([&](auto cb) { disk->fsync_dir(dir, cb); });
  }
  Result<std::vector<std::string>> list(const std::string& dir) {
    return await<Result<std::vector<std::string>>>([&](auto cb) { disk->list(dir, cb); });
  }

  // Power loss of the node, as the cluster does it: kill the incarnation, crash the disk, revive.
  void crash() {
    world.kill(node);
    disk->crash(world.rng("crash"));
    world.revive(node);
  }

  World world;
  NodeId node;
  std::unique_ptr<SimDisk> disk;
};

inline Bytes bytes_of(std::string_view s) {
  return to_bytes(s);
}
inline std::string text_of(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

}  // namespace gregor::sim::testing
