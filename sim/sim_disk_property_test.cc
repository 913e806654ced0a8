// Property tests of SimDisk against a naive model of POSIX file data on a page cache.
//
// Random sequences of append, pwrite, truncate, fsync, read and crash on a few files. The model
// keeps, per file, the last fsynced image, the ops since, and the current image. Proven:
//  - without corruption faults, reads and the current image always equal the model's; fsync
//    makes the durable image the model's current one; after a crash each file equals the last
//    fsynced image plus a prefix of the later ops, the last one possibly torn at a sector
//    boundary (the model enumerates every such candidate), so what was fsynced survives; and no
//    byte is ever one that no write put there (each write's bytes carry the write's own tag);
//  - with bit flips on write and misdirected writes on, any deviation from the model comes with
//    a corruption counter that moved since the model last matched the disk exactly.
// The dirty-ops bound is drawn small at times, so kernel-like writeback is exercised too.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

#include "sim/sim_disk.h"
#include "sim/sim_disk_test_util.h"

namespace gregor::sim {
namespace {

using disk::FilePtr;
using testing::DiskHarness;

constexpr int kFiles = 3;
constexpr uint64_t kSector = 512;

enum class Kind : uint8_t { append, pwrite, truncate, fsync, read, crash };

struct Step {
  Kind kind;
  int file;
  uint32_t position;  // reduced modulo the file size (plus slack) when used
  uint32_t len;
};

rc::Gen<Step> step_gen() {
  return rc::gen::apply(
      [](Kind kind, int file, uint32_t position, uint32_t len) {
        return Step{kind, file, position, len};
      },
      rc::gen::weightedElement<Kind>({{5, Kind::append},
                                      {4, Kind::pwrite},
                                      {1, Kind::truncate},
                                      {2, Kind::fsync},
                                      {2, Kind::read},
                                      {1, Kind::crash}}),
      rc::gen::inRange(0, kFiles), rc::gen::inRange<uint32_t>(0, 4000),
      rc::gen::inRange<uint32_t>(1, 1500));
}

// Up to 200 steps (twice RapidCheck's size): fewer than 255 writes, so write tags stay unique.
rc::Gen<std::vector<Step>> steps_gen() {
  return rc::gen::scale(2.0, rc::gen::container<std::vector<Step>>(step_gen()));
}

// The model's own (deliberately naive) file semantics.
struct ModelOp {
  bool write;
  uint64_t position;  // write: first byte; truncate: new size
  Bytes data;
};

void model_apply(Bytes& image, const ModelOp& op) {
  if (!op.write) {
    image.resize(op.position, 0);
    return;
  }
  if (op.data.empty()) return;
  if (image.size() < op.position + op.data.size()) image.resize(op.position + op.data.size(), 0);
  for (size_t i = 0; i < op.data.size(); ++i) image[op.position + i] = op.data[i];
}

struct ModelFile {
  Bytes synced;
  std::vector<ModelOp> since;
  Bytes current;
  std::set<uint8_t> tags{0};  // bytes this file may hold: holes (0) and its writes' tags

  void apply(ModelOp op) {
    model_apply(current, op);
    since.push_back(std::move(op));
  }
  // Every image a crash may leave: synced + ops[0..k), the k-th write cut after any sector
  // boundary inside it.
  std::vector<Bytes> crash_candidates() const {
    std::vector<Bytes> out{synced};
    Bytes image = synced;
    for (const ModelOp& op : since) {
      if (op.write) {
        uint64_t end = op.position + op.data.size();
        for (uint64_t cut = (op.position / kSector + 1) * kSector; cut < end; cut += kSector) {
          Bytes torn = image;
          model_apply(torn,
                      ModelOp{true, op.position,
                              Bytes(op.data.begin(),
                                    op.data.begin() + static_cast<ptrdiff_t>(cut - op.position))});
          out.push_back(std::move(torn));
        }
      }
      model_apply(image, op);
      out.push_back(image);
    }
    return out;
  }
  void reset_to(const Bytes& actual) {
    synced = actual;
    current = actual;
    since.clear();
  }
};

class Runner {
 public:
  Runner(uint64_t seed, SimDisk::Options options, bool corrupting)
      : h_(seed, std::move(options)), corrupting_(corrupting) {
    for (int i = 0; i < kFiles; ++i) {
      files_.push_back(h_.open(name(i)).value());
    }
    RC_ASSERT(h_.fsync_dir("").ok());
  }

  void run(const Step& s) {
    ModelFile& m = model_[s.file];
    FilePtr& f = files_[s.file];
    switch (s.kind) {
      case Kind::append:
        return append(m, f, s);
      case Kind::pwrite:
        return pwrite(m, f, s);
      case Kind::truncate: {
        uint64_t size = s.position % (m.current.size() + 300);
        RC_ASSERT(h_.truncate(f, size).ok());
        m.apply(ModelOp{false, size, {}});
        break;
      }
      case Kind::fsync: {
        RC_ASSERT(h_.fsync(f).ok());
        m.synced = m.current;
        m.since.clear();
        expect(h_.disk->durable_contents(name(s.file)) == m.synced, m);
        break;
      }
      case Kind::read:
        return read(m, f, s);
      case Kind::crash:
        return crash();
    }
    expect(h_.disk->current_contents(name(s.file)) == m.current, m);
  }

 private:
  static std::string name(int i) { return "f" + std::to_string(i); }

  Bytes next_data(ModelFile& m, uint32_t len) {
    uint8_t tag = static_cast<uint8_t>(next_tag_++ % 255 + 1);
    m.tags.insert(tag);
    return Bytes(len, tag);
  }

  void append(ModelFile& m, FilePtr& f, const Step& s) {
    Bytes data = next_data(m, s.len);
    Result<uint64_t> at = h_.append(f, data);
    RC_ASSERT(at.ok());
    RC_ASSERT(*at == m.current.size());
    m.apply(ModelOp{true, *at, std::move(data)});
    expect(h_.disk->current_contents(name(s.file)) == m.current, m);
  }

  void pwrite(ModelFile& m, FilePtr& f, const Step& s) {
    uint64_t position = s.position % (m.current.size() + 600);
    Bytes data = next_data(m, s.len);
    RC_ASSERT(h_.pwrite(f, position, data).ok());
    m.apply(ModelOp{true, position, std::move(data)});
    expect(h_.disk->current_contents(name(s.file)) == m.current, m);
  }

  void read(ModelFile& m, FilePtr& f, const Step& s) {
    uint64_t position = s.position % (m.current.size() + 1);
    Result<Bytes> got = h_.pread(f, position, s.len);
    RC_ASSERT(got.ok());
    uint64_t end = std::min<uint64_t>(m.current.size(), position + s.len);
    Bytes want(m.current.begin() + static_cast<ptrdiff_t>(position),
               m.current.begin() + static_cast<ptrdiff_t>(end));
    expect(*got == want, m);
    if (!corrupting_) {
      for (uint8_t b : *got) RC_ASSERT(m.tags.contains(b));
    }
  }

  void crash() {
    h_.crash();
    for (int i = 0; i < kFiles; ++i) {
      ModelFile& m = model_[i];
      std::optional<Bytes> actual = h_.disk->current_contents(name(i));
      RC_ASSERT(actual.has_value());  // the names were synced at the start
      std::vector<Bytes> candidates = m.crash_candidates();
      bool known = std::find(candidates.begin(), candidates.end(), *actual) != candidates.end();
      expect(known, m);
      if (!corrupting_) {
        for (uint8_t b : *actual) RC_ASSERT(m.tags.contains(b));
      }
      m.reset_to(*actual);
      files_[i] = h_.open(name(i), disk::OpenMode::open_existing).value();
    }
    // Disk and model agree exactly again: later deviations need later corruption.
    baseline_ = h_.disk->counters().corruptions();
  }

  // A mismatch fails the property, unless corruption faults are on and one has fired since the
  // model last agreed with the disk; then the model adopts the disk's current image.
  void expect(bool matches, ModelFile& m) {
    if (matches) return;
    RC_ASSERT(corrupting_);
    RC_ASSERT(h_.disk->counters().corruptions() > baseline_);
    int i = static_cast<int>(&m - model_);
    m.current = *h_.disk->current_contents(name(i));
  }

  DiskHarness h_;
  bool corrupting_;
  std::vector<FilePtr> files_;
  ModelFile model_[kFiles];
  uint64_t next_tag_ = 0;
  uint64_t baseline_ = 0;
};

SimDisk::Options options_for(size_t dirty_ops_max) {
  SimDisk::Options options;
  options.dirty_ops_max = dirty_ops_max;
  options.torn_write_probability = 0.5;
  return options;
}

RC_GTEST_PROP(SimDiskProperty, CrashLeavesSyncedImagePlusPrefixOfLaterOps, ()) {
  uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1'000'000'000);
  size_t dirty_ops_max = *rc::gen::element<size_t>(2, 8, 4096);
  std::vector<Step> steps = *steps_gen();
  Runner runner(seed, options_for(dirty_ops_max), /*corrupting=*/false);
  for (const Step& s : steps) runner.run(s);
}

RC_GTEST_PROP(SimDiskProperty, DeviationsOnlyWithCorruptionCounted, ()) {
  uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1'000'000'000);
  size_t dirty_ops_max = *rc::gen::element<size_t>(2, 8, 4096);
  std::vector<Step> steps = *steps_gen();
  SimDisk::Options options = options_for(dirty_ops_max);
  options.faults.write_bit_flip_probability = 0.1;
  options.faults.misdirected_write_probability = 0.1;
  Runner runner(seed, options, /*corrupting=*/true);
  for (const Step& s : steps) runner.run(s);
}

}  // namespace
}  // namespace gregor::sim
