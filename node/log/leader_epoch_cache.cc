#include "node/log/leader_epoch_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>

#include "base/assert.h"

namespace gregor::log {

namespace {

// The canonical decimal spelling of a non-negative int32, as to_checkpoint() writes it.
std::optional<int32_t> parse_epoch(const std::string& s) {
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  if (fmt::format("{}", v) != s) return std::nullopt;
  return v;
}

}  // namespace

bool LeaderEpochCache::assign(int32_t epoch, int64_t start_offset) {
  GREGOR_ASSERT(epoch >= 0 && start_offset >= 0, "invalid leader epoch entry ({}, {})", epoch,
                start_offset);
  if (!entries_.empty()) {
    const EpochEntry& latest = entries_.back();
    if (latest.epoch == epoch && start_offset >= latest.start_offset) return false;
  }
  // Kafka removes from the end only while entries conflict, so a non-conflicting entry stops
  // the scan; given the invariant, every earlier one is non-conflicting too.
  while (!entries_.empty() &&
         (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
    entries_.pop_back();
  }
  entries_.push_back({epoch, start_offset});
  return true;
}

std::optional<EpochEntry> LeaderEpochCache::latest_entry() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::optional<EpochEntry> LeaderEpochCache::earliest_entry() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front();
}

std::optional<int32_t> LeaderEpochCache::latest_epoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

std::optional<int64_t> LeaderEpochCache::start_offset(int32_t epoch) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), epoch,
                             [](const EpochEntry& e, int32_t ep) { return e.epoch < ep; });
  if (it == entries_.end() || it->epoch != epoch) return std::nullopt;
  return it->start_offset;
}

std::optional<int32_t> LeaderEpochCache::epoch_for_offset(int64_t offset) const {
  auto after = std::upper_bound(entries_.begin(), entries_.end(), offset,
                                [](int64_t o, const EpochEntry& e) { return o < e.start_offset; });
  if (after == entries_.begin()) return std::nullopt;
  return std::prev(after)->epoch;
}

LeaderEpochCache::EpochEnd LeaderEpochCache::end_offset_for(int32_t requested_epoch,
                                                            int64_t log_end_offset) const {
  constexpr EpochEnd kUndefined{kUndefinedEpoch, kUndefinedEpochOffset};
  if (requested_epoch < 0) return kUndefined;
  // The latest epoch is still being written to: its end is the log end (Kafka's comment: a
  // consumer validating its position after a rebalance may ask this).
  if (latest_epoch() == requested_epoch) return {requested_epoch, log_end_offset};
  auto higher = std::upper_bound(entries_.begin(), entries_.end(), requested_epoch,
                                 [](int32_t ep, const EpochEntry& e) { return ep < e.epoch; });
  if (higher == entries_.end()) return kUndefined;
  if (higher == entries_.begin()) {
    // Older epochs were truncated away from the start; the data before the first known epoch's
    // start is gone, so the follower should replicate from there.
    return {requested_epoch, higher->start_offset};
  }
  return {std::prev(higher)->epoch, higher->start_offset};
}

bool LeaderEpochCache::truncate_from_end(int64_t end_offset) {
  if (end_offset < 0) return false;
  bool changed = false;
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) {
    entries_.pop_back();
    changed = true;
  }
  return changed;
}

bool LeaderEpochCache::truncate_from_start(int64_t start_offset) {
  auto first_kept =
      std::upper_bound(entries_.begin(), entries_.end(), start_offset,
                       [](int64_t o, const EpochEntry& e) { return o < e.start_offset; });
  if (first_kept == entries_.begin()) return false;
  // The last removed epoch still covers start_offset: keep it, starting there. Its new start
  // stays below the next entry's, so the invariant holds.
  EpochEntry moved{std::prev(first_kept)->epoch, start_offset};
  bool changed =
      first_kept - entries_.begin() > 1 || std::prev(first_kept)->start_offset != start_offset;
  entries_.erase(entries_.begin(), first_kept);
  entries_.insert(entries_.begin(), moved);
  return changed;
}

CheckpointEntries LeaderEpochCache::to_checkpoint() const {
  CheckpointEntries out;
  out.reserve(entries_.size());
  for (const EpochEntry& e : entries_) out.emplace_back(std::to_string(e.epoch), e.start_offset);
  return out;
}

Result<LeaderEpochCache> LeaderEpochCache::from_checkpoint(const CheckpointEntries& entries) {
  LeaderEpochCache cache;
  cache.entries_.reserve(entries.size());
  for (const auto& [key, start] : entries) {
    std::optional<int32_t> epoch = parse_epoch(key);
    if (!epoch || start < 0) {
      return errorf(Errc::corrupt, "leader epoch checkpoint: bad entry '{} {}'", key, start);
    }
    // Kafka re-assigns the entries it reads, silently dropping conflicts; a conflict in a file
    // whose CRC matched means a bug, so we refuse it.
    if (!cache.entries_.empty() &&
        (*epoch <= cache.entries_.back().epoch || start <= cache.entries_.back().start_offset)) {
      return errorf(Errc::corrupt, "leader epoch checkpoint: entry '{} {}' out of order", key,
                    start);
    }
    cache.entries_.push_back({*epoch, start});
  }
  return cache;
}

void LeaderEpochCache::write_to(CheckpointFile& file, disk::StatusFn done) const {
  file.write(to_checkpoint(), std::move(done));
}

void LeaderEpochCache::read_from(CheckpointFile& file,
                                 std::function<void(Result<LeaderEpochCache>)> done) {
  file.read([done = std::move(done)](Result<CheckpointEntries> entries) {
    if (!entries.ok()) return done(entries.status());
    done(from_checkpoint(*entries));
  });
}

}  // namespace gregor::log
