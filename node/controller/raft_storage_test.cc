// Proves RaftStorage's contract on the simulated disk: hard state, entries of both kinds,
// truncation, local and installed snapshots round-trip through a reload; the Log's leader-epoch
// cache answers KIP-279 as the in-memory RaftLog does; a crash (process crash or power loss) at a
// random moment of a random sequence of Ready batches never loses an acknowledged entry, hard
// state or snapshot, and always reloads a consistent Raft state made of acknowledged parts and
// parts of the one apply in flight; fsync EIO and ENOSPC fail apply (and everything after it)
// rather than acknowledging; damaged files fail load with the file's name.
// GREGOR_RAFT_STORAGE_SEEDS=N runs more crash seeds (default 300).
#include "node/controller/raft_storage.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "node/controller/raft.h"
#include "node/controller/raft_cluster.h"
#include "node/controller/raft_log.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/world.h"

namespace gregor::raft {
namespace {

constexpr const char* kDir = "meta";

class Harness {
 public:
  explicit Harness(uint64_t seed = 1, RaftStorageOptions options = {})
      : world_(sim::World::Options{seed, {}}),
        node_(world_.add_node("n1")),
        disk_(world_, node_, sim::SimDisk::Options{}),
        clock_(world_, node_),
        network_(world_),
        random_(seed),
        env_{clock_, random_, network_.endpoint(node_), disk_, tracer_, "n1", true},
        options_(options) {}

  Status load() {
    storage_.reset();
    std::optional<Result<RaftStorage::Loaded>> got;
    RaftStorage::load(
        env_, kDir, [&](Result<RaftStorage::Loaded> r) { got = std::move(r); }, options_);
    run([&] { return got.has_value(); });
    if (!got) return error(Errc::timed_out, "load never completed");
    if (!got->ok()) return got->status();
    storage_ = std::move((*got)->storage);
    state_ = std::move((*got)->state);
    return Status::Ok();
  }
  RaftStorage& storage() { return *storage_; }
  const PersistentState& state() const { return state_; }

  Status apply(const Ready& rd) {
    return wait([&](auto cb) { storage_->apply(rd, cb); });
  }
  Status save(const Snapshot& s) {
    return wait([&](auto cb) { storage_->save_snapshot(s, cb); });
  }
  // Starts an operation; *result is set when it completes.
  std::shared_ptr<std::optional<Status>> start_apply(const Ready& rd) {
    auto result = std::make_shared<std::optional<Status>>();
    storage_->apply(rd, [result](const Status& s) { *result = s; });
    return result;
  }
  std::shared_ptr<std::optional<Status>> start_save(const Snapshot& s) {
    auto result = std::make_shared<std::optional<Status>>();
    storage_->save_snapshot(s, [result](const Status& st) { *result = st; });
    return result;
  }
  // Runs world events until `done` or `budget` events have run; false when the budget ran out.
  bool run_some(const std::shared_ptr<std::optional<Status>>& done, int64_t& budget) {
    while (!done->has_value()) {
      if (budget-- <= 0 || !world_.step()) return false;
    }
    return true;
  }
  void crash(bool lose_unsynced) {
    storage_.reset();
    world_.kill(node_);
    if (lose_unsynced) {
      disk_.crash(world_.rng("crash"));
    } else {
      disk_.process_crash();
    }
    world_.revive(node_);
  }
  // Overwrites a byte of a file through the seam and syncs it.
  Status poke(const std::string& path, uint64_t position, uint8_t value) {
    disk::FilePtr file;
    return wait([&](auto cb) {
      disk_.open(path, disk::OpenMode::open_existing, [&, cb](Result<disk::FilePtr> f) {
        if (!f.ok()) return cb(f.status());
        file = *f;
        file->pwrite(position, Bytes{value}, [&, cb](const Status& s) {
          if (!s.ok()) return cb(s);
          file->fsync(cb);
        });
      });
    });
  }
  sim::SimDisk& disk() { return disk_; }

 private:
  template <typename Call>
  Status wait(Call call) {
    std::optional<Status> got;
    call([&](const Status& s) { got = s; });
    run([&] { return got.has_value(); });
    return got ? *got : error(Errc::timed_out, "never completed");
  }
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
  RaftStorageOptions options_;
  std::unique_ptr<RaftStorage> storage_;
  PersistentState state_;
};

// What the storage should hold: the in-memory cluster's rules for persisting a Ready.
struct Model {
  PersistentState s;

  int64_t start() const { return s.snapshot.id.end_offset; }
  int64_t end() const { return start() + static_cast<int64_t>(s.entries.size()); }
  int32_t last_epoch() const {
    return s.entries.empty() ? s.snapshot.id.epoch : s.entries.back().epoch;
  }
  const Entry* at(int64_t o) const {
    if (o < start() || o >= end()) return nullptr;
    return &s.entries[static_cast<size_t>(o - start())];
  }
  void apply(const Ready& rd) {
    if (rd.snapshot) {
      s.snapshot = *rd.snapshot;
      s.entries.clear();
    }
    if (rd.truncate_to) {
      std::erase_if(s.entries, [&](const Entry& e) { return e.offset >= *rd.truncate_to; });
    }
    s.entries.insert(s.entries.end(), rd.entries.begin(), rd.entries.end());
    if (rd.hard_state) s.hard_state = *rd.hard_state;
  }
  void save(const Snapshot& snap) {
    s.snapshot = snap;
    std::erase_if(s.entries, [&](const Entry& e) { return e.offset < snap.id.end_offset; });
  }
};

std::string describe(const PersistentState& s) {
  return fmt::format("hs({},{},{}) snap({}@{}) {}", s.hard_state.epoch, s.hard_state.voted_for,
                     s.hard_state.leader_id, s.snapshot.id.end_offset, s.snapshot.id.epoch,
                     to_string(s.entries));
}

void expect_same(const PersistentState& got, const PersistentState& want) {
  EXPECT_EQ(got.hard_state, want.hard_state);
  EXPECT_EQ(got.snapshot.id, want.snapshot.id);
  EXPECT_EQ(got.snapshot.data, want.snapshot.data);
  EXPECT_EQ(got.entries, want.entries) << describe(got) << "\nwant " << describe(want);
}

// One host step: a local snapshot to save first, or a Ready.
struct HostOp {
  std::optional<Snapshot> save;
  Ready ready;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  Random& rng() { return rng_; }

  std::vector<HostOp> next(const Model& m) {
    Ready rd;
    int r = static_cast<int>(rng_.uniform(0, 99));
    int32_t epoch = m.s.hard_state.epoch;
    auto bump = [&] {
      epoch++;
      rd.hard_state = HardState{epoch, pick_node(), pick_node()};
    };
    if (r < 45) {
      if (rng_.chance(0.2)) bump();
      append(rd, m.end(), epoch, static_cast<int>(rng_.uniform(1, 4)));
    } else if (r < 60) {
      if (rng_.chance(0.5)) epoch++;
      rd.hard_state = HardState{epoch, pick_node(), pick_node()};
    } else if (r < 72 && m.end() > m.start()) {
      int64_t t =
          static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(std::max(m.start(), m.end() - 6)),
                                            static_cast<uint64_t>(m.end() - 1)));
      rd.truncate_to = t;
      bump();
      append(rd, t, epoch, static_cast<int>(rng_.uniform(0, 3)));
    } else if (r < 84 && m.end() > m.start()) {
      int64_t at = static_cast<int64_t>(
          rng_.uniform(static_cast<uint64_t>(m.start() + 1), static_cast<uint64_t>(m.end())));
      Snapshot snap{{at, m.at(at - 1)->epoch}, payload(64)};
      Ready start;
      start.log_start_offset = at;
      return {HostOp{snap, {}}, HostOp{std::nullopt, std::move(start)}};
    } else if (r < 94) {
      int64_t at = static_cast<int64_t>(
          rng_.uniform(static_cast<uint64_t>(m.start() + 1), static_cast<uint64_t>(m.end() + 6)));
      int32_t snap_epoch = static_cast<int32_t>(
          rng_.uniform(static_cast<uint64_t>(m.s.snapshot.id.epoch), static_cast<uint64_t>(epoch)));
      rd.snapshot = Snapshot{{at, snap_epoch}, payload(200)};
      if (rng_.chance(0.3)) bump();
    }
    // else: an empty Ready (only a high watermark or messages for the host)
    return {HostOp{std::nullopt, std::move(rd)}};
  }

 private:
  NodeId pick_node() { return static_cast<NodeId>(rng_.uniform(0, 4)) - 1; }
  Bytes payload(size_t max) {
    std::string p = fmt::format("p{}.", counter_++);
    p.resize(p.size() + rng_.uniform(0, max), 'x');
    return to_bytes(p);
  }
  void append(Ready& rd, int64_t from, int32_t epoch, int n) {
    for (int i = 0; i < n; ++i) {
      bool leader_change = rng_.chance(0.15);
      rd.entries.push_back(Entry{from + i, epoch,
                                 leader_change ? EntryKind::kLeaderChange : EntryKind::kData,
                                 leader_change ? Bytes{} : payload(300)});
    }
  }

  Random rng_;
  int counter_ = 0;
};

// A reloaded state after a crash, against A (everything acknowledged) and B (A plus the
// operation in flight, or A when none was). Empty when fine.
std::string check_recovered(const PersistentState& rec, const Model& a, const Model& b) {
  // A consistent Raft state.
  int32_t prev = rec.snapshot.id.epoch;
  for (size_t i = 0; i < rec.entries.size(); ++i) {
    const Entry& e = rec.entries[i];
    if (e.offset != rec.snapshot.id.end_offset + static_cast<int64_t>(i) || e.epoch < prev) {
      return "inconsistent log: " + describe(rec);
    }
    prev = e.epoch;
  }
  // Entries of the in-flight apply may outlive its hard state: then load starts unattached in
  // the log's epoch (KRaft's rule).
  bool unattached_in_log_epoch =
      rec.hard_state == HardState{prev, kNoNode, kNoNode} && prev > a.s.hard_state.epoch;
  if (rec.hard_state.epoch < a.s.hard_state.epoch) return "the epoch went back";
  if (rec.hard_state != a.s.hard_state && rec.hard_state != b.s.hard_state &&
      !unattached_in_log_epoch) {
    return "hard state neither acknowledged nor in flight";
  }
  auto same_snapshot = [&](const Model& m) {
    return rec.snapshot.id == m.s.snapshot.id && rec.snapshot.data == m.s.snapshot.data;
  };
  if (!same_snapshot(a) && !same_snapshot(b)) return "snapshot neither acknowledged nor in flight";
  // Nothing from thin air.
  for (const Entry& e : rec.entries) {
    const Entry* ea = a.at(e.offset);
    const Entry* eb = b.at(e.offset);
    if (!(ea && *ea == e) && !(eb && *eb == e)) return "unknown entry " + to_string(e);
  }
  // Nothing acknowledged lost: an entry A and B both hold is held (or covered by the snapshot).
  int64_t rec_end = rec.snapshot.id.end_offset + static_cast<int64_t>(rec.entries.size());
  for (const Entry& e : a.s.entries) {
    const Entry* eb = b.at(e.offset);
    if (!eb || !(*eb == e) || e.offset < rec.snapshot.id.end_offset) continue;
    if (e.offset >= rec_end ||
        !(rec.entries[static_cast<size_t>(e.offset - rec.snapshot.id.end_offset)] == e)) {
      return "lost acknowledged entry " + to_string(e);
    }
  }
  return "";
}

TEST(RaftStorage, EmptyDirectoryLoadsEmptyState) {
  Harness h;
  ASSERT_TRUE(h.load().ok());
  expect_same(h.state(), PersistentState{});
  EXPECT_EQ(h.storage().log_end_offset(), 0);
}

TEST(RaftStorage, RoundTripOfHardStateEntriesTruncationAndSnapshots) {
  Harness h(7, RaftStorageOptions{.segment_bytes = 1024});
  ASSERT_TRUE(h.load().ok());
  Model m;
  Generator gen(7);
  int snapshots = 0, installs = 0, truncations = 0;
  for (int i = 0; i < 120; ++i) {
    for (HostOp& op : gen.next(m)) {
      if (op.save) {
        ASSERT_TRUE(h.save(*op.save).ok());
        m.save(*op.save);
        snapshots++;
        continue;
      }
      ASSERT_TRUE(h.apply(op.ready).ok());
      m.apply(op.ready);
      installs += op.ready.snapshot.has_value();
      truncations += op.ready.truncate_to.has_value();
    }
    if (i % 20 == 19) {
      ASSERT_TRUE(h.load().ok());
      expect_same(h.state(), m.s);
    }
  }
  EXPECT_GT(snapshots, 3);
  EXPECT_GT(installs, 3);
  EXPECT_GT(truncations, 3);
  ASSERT_TRUE(h.load().ok());
  expect_same(h.state(), m.s);
  EXPECT_EQ(h.storage().log_start_offset(), m.start());
  EXPECT_EQ(h.storage().log_end_offset(), m.end());
  EXPECT_EQ(h.storage().hard_state(), m.s.hard_state);
}

TEST(RaftStorage, EpochCacheAnswersLikeTheRaftLog) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Harness h(seed, RaftStorageOptions{.segment_bytes = 2048});
    ASSERT_TRUE(h.load().ok());
    Model m;
    Generator gen(seed);
    for (int i = 0; i < 40; ++i) {
      for (HostOp& op : gen.next(m)) {
        if (op.save) {
          ASSERT_TRUE(h.save(*op.save).ok());
          m.save(*op.save);
        } else {
          ASSERT_TRUE(h.apply(op.ready).ok());
          m.apply(op.ready);
        }
      }
      for (int round = 0; round < 2; ++round) {
        RaftLog want(m.s);
        for (int32_t e = 0; e <= m.s.hard_state.epoch + 1; ++e) {
          EXPECT_EQ(h.storage().end_offset_for_epoch(e), want.end_offset_for_epoch(e))
              << "seed " << seed << " epoch " << e << " " << describe(m.s);
        }
        if (i % 10 != 9) break;
        ASSERT_TRUE(h.load().ok());  // and the same after a reload
      }
    }
  }
}

TEST(RaftStorage, SnapshotsDeleteSegmentsAndOlderSnapshotFiles) {
  Harness h(3, RaftStorageOptions{.segment_bytes = 1024});
  ASSERT_TRUE(h.load().ok());
  Ready rd;
  for (int i = 0; i < 60; ++i) {
    rd.entries.push_back(Entry{i, 1, EntryKind::kData, Bytes(100, static_cast<uint8_t>(i))});
  }
  ASSERT_TRUE(h.apply(rd).ok());
  size_t segments = h.storage().log().segment_count();
  EXPECT_GT(segments, 4u);
  Snapshot s1{{20, 1}, to_bytes("one")};
  Snapshot s2{{50, 1}, to_bytes("two")};
  ASSERT_TRUE(h.save(s1).ok());
  ASSERT_TRUE(h.apply(Ready{.log_start_offset = 20}).ok());
  ASSERT_TRUE(h.save(s2).ok());
  ASSERT_TRUE(h.apply(Ready{.log_start_offset = 50}).ok());
  EXPECT_LT(h.storage().log().segment_count(), segments);
  EXPECT_GE(h.storage().log().log_start_offset(), 40);
  auto paths = h.disk().paths(/*durable=*/true);
  EXPECT_EQ(std::count(paths.begin(), paths.end(),
                       std::string(kDir) + "/" + RaftStorage::snapshot_file_name(s2.id)),
            1);
  EXPECT_EQ(std::count(paths.begin(), paths.end(),
                       std::string(kDir) + "/" + RaftStorage::snapshot_file_name(s1.id)),
            0);
  ASSERT_TRUE(h.load().ok());
  EXPECT_EQ(h.state().snapshot.id, s2.id);
  EXPECT_EQ(h.state().snapshot.data, s2.data);
  ASSERT_EQ(h.state().entries.size(), 10u);
  EXPECT_EQ(h.state().entries.front().offset, 50);
}

TEST(RaftStorage, InstallPastTheLogEndRestartsTheLogThere) {
  Harness h;
  ASSERT_TRUE(h.load().ok());
  Ready rd;
  for (int i = 0; i < 5; ++i) rd.entries.push_back(Entry{i, 2, EntryKind::kData, to_bytes("a")});
  rd.hard_state = HardState{3, 2, 2};
  ASSERT_TRUE(h.apply(rd).ok());
  // Divergent epoch-2 entries, and a snapshot of the leader's log ending at 100 in epoch 3.
  Ready install{.snapshot = Snapshot{{100, 3}, to_bytes("state")}};
  ASSERT_TRUE(h.apply(install).ok());
  EXPECT_EQ(h.storage().log_end_offset(), 100);
  EXPECT_EQ(h.storage().log().log_start_offset(), 100);
  Ready more{.entries = {Entry{100, 3, EntryKind::kLeaderChange, {}},
                         Entry{101, 3, EntryKind::kData, to_bytes("b")}}};
  ASSERT_TRUE(h.apply(more).ok());
  ASSERT_TRUE(h.load().ok());
  EXPECT_EQ(h.state().snapshot.id, (SnapshotId{100, 3}));
  EXPECT_EQ(h.state().entries, more.entries);
  EXPECT_EQ(h.state().hard_state, (HardState{3, 2, 2}));
}

TEST(RaftStorage, OperationsRunOneAtATimeInOrder) {
  Harness h(5, RaftStorageOptions{.segment_bytes = 1024});
  ASSERT_TRUE(h.load().ok());
  std::vector<std::shared_ptr<std::optional<Status>>> done;
  Ready first{.entries = {Entry{0, 1, EntryKind::kLeaderChange, {}}},
              .hard_state = HardState{1, 1, 1}};
  done.push_back(h.start_apply(first));
  EXPECT_FALSE(done.back()->has_value());  // never inside the call
  Ready second;
  for (int i = 1; i < 30; ++i) second.entries.push_back(Entry{i, 1, EntryKind::kData, Bytes(50)});
  done.push_back(h.start_apply(second));
  done.push_back(h.start_save(Snapshot{{20, 1}, to_bytes("s")}));
  done.push_back(h.start_apply(Ready{.log_start_offset = 20}));
  done.push_back(h.start_apply(Ready{}));
  done.push_back(h.start_apply(Ready{.truncate_to = 25, .hard_state = HardState{2, 2, -1}}));
  int64_t budget = 1 << 20;
  for (auto& d : done) {
    ASSERT_TRUE(h.run_some(d, budget));
    ASSERT_TRUE((*d)->ok()) << **d;
  }
  ASSERT_TRUE(h.load().ok());
  EXPECT_EQ(h.state().snapshot.id, (SnapshotId{20, 1}));
  ASSERT_EQ(h.state().entries.size(), 5u);
  EXPECT_EQ(h.state().entries.back().offset, 24);
  EXPECT_EQ(h.state().hard_state, (HardState{2, 2, -1}));
}

// The storage as a Raft host uses it: a one-voter node proposes, commits, snapshots and crashes
// (power loss) four times; each restart builds the Raft from the loaded state, and what was
// committed before comes back in order.
TEST(RaftStorage, OneVoterRaftRestartsFromItsStorage) {
  Harness h(11, RaftStorageOptions{.segment_bytes = 1024});
  std::vector<std::string> committed;  // what the host applied, over every incarnation
  int proposals = 0;
  int snapshots = 0;
  for (int incarnation = 0; incarnation < 4; ++incarnation) {
    ASSERT_TRUE(h.load().ok());
    Raft raft(RaftConfig{.id = 1, .voters = {1}, .seed = static_cast<uint64_t>(incarnation)},
              h.state());
    std::vector<std::string> applied = decode_applied(h.state().snapshot.data);
    int64_t applied_end = h.state().snapshot.id.end_offset;
    auto process = [&] {
      while (raft.has_ready()) {
        Ready rd = raft.take_ready();
        Status s = h.apply(rd);
        ASSERT_TRUE(s.ok()) << s;
        int64_t hw = rd.high_watermark.value_or(-1);
        for (; applied_end < hw; ++applied_end) {
          const Entry& e = raft.log().at(applied_end);
          if (e.kind == EntryKind::kData) applied.emplace_back(as_chars(e.payload));
        }
      }
    };
    raft.campaign();
    process();
    ASSERT_EQ(raft.role(), Role::kLeader);
    for (int i = 0; i < 40; ++i) {
      raft.propose({to_bytes(fmt::format("v{}", proposals++))});
      raft.tick();
      process();
      if (i % 15 == 14 && applied_end > raft.log().start_offset()) {
        Snapshot snap{{applied_end, raft.log().epoch_at(applied_end - 1)}, encode_applied(applied)};
        ASSERT_TRUE(h.save(snap).ok());
        raft.create_snapshot(snap.id.end_offset, snap.data);
        process();
        snapshots++;
      }
    }
    // Everything committed in earlier incarnations comes back first, in order.
    ASSERT_GE(applied.size(), committed.size());
    EXPECT_TRUE(std::equal(committed.begin(), committed.end(), applied.begin()));
    committed = applied;
    h.crash(/*lose_unsynced=*/true);
  }
  EXPECT_EQ(committed.size(), 160u);
  EXPECT_GE(snapshots, 8);
}

// The randomized crash test: random Ready batches, a crash at a random moment (process crash or
// power loss), reload, check; three crashes per seed.
TEST(RaftStorage, CrashAtAnyMomentKeepsAcknowledgedStateAndConsistency) {
  int seeds = 300;
  if (const char* env = std::getenv("GREGOR_RAFT_STORAGE_SEEDS")) seeds = std::atoi(env);
  int in_flight_crashes = 0;
  int first = 1;
  if (const char* env = std::getenv("GREGOR_RAFT_STORAGE_SEED")) first = seeds = std::atoi(env);
  for (int seed = first; seed <= seeds; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Harness h(static_cast<uint64_t>(seed),
              RaftStorageOptions{.segment_bytes = seed % 2 ? 1024u : 1u << 20});
    Generator gen(static_cast<uint64_t>(seed) * 7919);
    ASSERT_TRUE(h.load().ok());
    Model acked;
    for (int round = 0; round < 3; ++round) {
      int64_t budget = static_cast<int64_t>(gen.rng().uniform(0, 1500));
      Model in_flight = acked;
      bool crashed = false;
      while (!crashed) {
        for (HostOp& op : gen.next(acked)) {
          Model after = acked;
          std::shared_ptr<std::optional<Status>> done;
          if (op.save) {
            after.save(*op.save);
            done = h.start_save(*op.save);
          } else {
            after.apply(op.ready);
            done = h.start_apply(op.ready);
          }
          if (!h.run_some(done, budget)) {
            in_flight = after;
            crashed = true;
            in_flight_crashes++;
            break;
          }
          ASSERT_TRUE((*done)->ok()) << **done;
          acked = after;
          in_flight = acked;
        }
      }
      bool power_loss = gen.rng().chance(0.6);
      h.crash(power_loss);
      Status loaded = h.load();
      ASSERT_TRUE(loaded.ok()) << loaded << "\n"
                               << (power_loss ? "power loss" : "process crash") << "\nacked "
                               << describe(acked.s) << "\nin flight " << describe(in_flight.s);
      std::string problem = check_recovered(h.state(), acked, in_flight);
      ASSERT_EQ(problem, "") << (power_loss ? "power loss" : "process crash") << "\nrecovered "
                             << describe(h.state()) << "\nacked " << describe(acked.s)
                             << "\nin flight " << describe(in_flight.s);
      acked.s = h.state();
    }
  }
  EXPECT_GT(in_flight_crashes, seeds);
}

TEST(RaftStorage, FsyncErrorFailsApplyAndEverythingAfter) {
  Harness h;
  ASSERT_TRUE(h.load().ok());
  Ready first{.entries = {Entry{0, 1, EntryKind::kData, to_bytes("kept")}},
              .hard_state = HardState{1, 1, 1}};
  ASSERT_TRUE(h.apply(first).ok());
  h.disk().fail_next_fsync();
  Ready second{.entries = {Entry{1, 1, EntryKind::kData, to_bytes("lost")}}};
  Status s = h.apply(second);
  EXPECT_EQ(s.code(), Errc::io_error) << s;
  Status after = h.apply(Ready{.hard_state = HardState{2, -1, -1}});
  EXPECT_EQ(after.code(), Errc::io_error) << after;
  EXPECT_FALSE(h.storage().failed().ok());
  h.crash(/*lose_unsynced=*/true);
  ASSERT_TRUE(h.load().ok());
  EXPECT_EQ(h.state().hard_state, (HardState{1, 1, 1}));
  ASSERT_GE(h.state().entries.size(), 1u);
  EXPECT_EQ(h.state().entries[0], first.entries[0]);
}

TEST(RaftStorage, FsyncErrorOnTheQuorumStateFailsApply) {
  Harness h;
  ASSERT_TRUE(h.load().ok());
  h.disk().fail_next_fsync(std::string(kDir) + "/quorum-state.tmp");
  Status s = h.apply(Ready{.hard_state = HardState{4, 2, -1}});
  EXPECT_EQ(s.code(), Errc::io_error) << s;
  EXPECT_NE(s.message().find("quorum-state"), std::string::npos) << s;
}

TEST(RaftStorage, NoSpaceFailsApplyAndSaveSnapshot) {
  Harness h;
  ASSERT_TRUE(h.load().ok());
  Ready first{.entries = {Entry{0, 1, EntryKind::kData, to_bytes("a")}}};
  ASSERT_TRUE(h.apply(first).ok());
  h.disk().set_quota_bytes(h.disk().current_bytes() + 200);
  Ready big{.entries = {Entry{1, 1, EntryKind::kData, Bytes(4000, 'x')}}};
  Status s = h.apply(big);
  EXPECT_EQ(s.code(), Errc::no_space) << s;

  Harness h2;
  ASSERT_TRUE(h2.load().ok());
  ASSERT_TRUE(h2.apply(first).ok());
  h2.disk().set_quota_bytes(h2.disk().current_bytes() + 200);
  Status snap = h2.save(Snapshot{{1, 1}, Bytes(4000, 'y')});
  EXPECT_EQ(snap.code(), Errc::no_space) << snap;
  h2.disk().set_quota_bytes(UINT64_MAX);
  EXPECT_EQ(h2.apply(Ready{.log_start_offset = 1}).code(), Errc::no_space);  // failed for good
  h2.crash(/*lose_unsynced=*/true);
  ASSERT_TRUE(h2.load().ok());
  EXPECT_EQ(h2.state().snapshot.id, (SnapshotId{}));
  EXPECT_EQ(h2.state().entries, first.entries);
}

TEST(RaftStorage, DamagedFilesFailLoadNamingTheFile) {
  Harness h;
  ASSERT_TRUE(h.load().ok());
  ASSERT_TRUE(h.apply(Ready{.entries = {Entry{0, 1, EntryKind::kData, to_bytes("a")},
                                        Entry{1, 1, EntryKind::kData, to_bytes("b")}},
                            .hard_state = HardState{1, 1, 1}})
                  .ok());
  ASSERT_TRUE(h.save(Snapshot{{2, 1}, to_bytes("snapshot data")}).ok());
  std::string snap = std::string(kDir) + "/" + RaftStorage::snapshot_file_name({2, 1});
  ASSERT_TRUE(h.poke(snap, 30, 'Z').ok());
  Status s = h.load();
  EXPECT_EQ(s.code(), Errc::corrupt) << s;
  EXPECT_NE(s.message().find(RaftStorage::snapshot_file_name({2, 1})), std::string::npos) << s;

  Harness q;
  ASSERT_TRUE(q.load().ok());
  ASSERT_TRUE(q.apply(Ready{.hard_state = HardState{5, 1, 1}}).ok());
  ASSERT_TRUE(q.poke(std::string(kDir) + "/quorum-state", 5, '9').ok());
  Status qs = q.load();
  EXPECT_EQ(qs.code(), Errc::corrupt) << qs;
  EXPECT_NE(qs.message().find("quorum-state"), std::string::npos) << qs;
}

TEST(RaftStorage, CodecsRefuseDamageAndRoundTrip) {
  Snapshot s{{42, 7}, to_bytes("data")};
  Bytes enc = RaftStorage::encode_snapshot(s);
  auto dec = RaftStorage::decode_snapshot(enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->id, s.id);
  EXPECT_EQ(dec->data, s.data);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(RaftStorage::decode_snapshot(ByteView(enc).first(cut)).ok()) << cut;
  }
  EXPECT_EQ(RaftStorage::parse_snapshot_file_name(RaftStorage::snapshot_file_name(s.id)), s.id);
  EXPECT_EQ(RaftStorage::snapshot_file_name(s.id), "00000000000000000042-0000000007.checkpoint");
  EXPECT_FALSE(RaftStorage::parse_snapshot_file_name("42-7.checkpoint"));
  for (EntryKind kind : {EntryKind::kData, EntryKind::kLeaderChange}) {
    Entry e{9, 3, kind, kind == EntryKind::kData ? to_bytes("payload") : Bytes{}};
    Bytes batch = RaftStorage::encode_entry(e, 1000);
    auto h = log::parse_batch_header(batch);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->partition_leader_epoch, 3);
    EXPECT_EQ(h->is_control(), kind == EntryKind::kLeaderChange);
    auto back = RaftStorage::decode_entry(batch);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, e);
  }
  auto hs = RaftStorage::decode_hard_state(RaftStorage::encode_hard_state({3, -1, 2}));
  ASSERT_TRUE(hs.ok());
  EXPECT_EQ(*hs, (HardState{3, -1, 2}));
  EXPECT_FALSE(RaftStorage::decode_hard_state({{"leader_epoch", 1}}).ok());
}

}  // namespace
}  // namespace gregor::raft
