// OffsetIndex: the sparse offset -> file position index of one log segment, as Kafka's
// OffsetIndex, kept in memory. The log appends an entry every so many bytes of records (the
// index interval is the log's choice); lookup(target) gives the position in the segment's .log
// file from which a forward scan finds `target`. The log writes and reads the `.index` file
// itself; this class only provides the codec.
//
// File format. The entries region is byte-identical to Kafka's: one 8-byte entry per indexed
// offset, big-endian (relative offset u32 = offset - base_offset, position u32), sorted by
// offset. DEVIATION from Kafka: Kafka's index files carry no checksum (and are preallocated and
// trimmed); ours end in an 8-byte trailer, magic u32 (kOffsetIndexMagic) then CRC32C u32 over
// every byte before it, so that a bit flip, a torn write or a truncated file is detected as
// Errc::corrupt instead of silently mis-positioning a fetch. Our files are therefore not
// interchangeable with Kafka's.
//
// Also here: segment file names (`<20-digit base offset><suffix>`, as Kafka's
// filenamePrefixFromOffset) and the trailer helpers shared with TimeIndex.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::log {

inline constexpr std::string_view kOffsetIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";

// "<base offset as 20 zero-padded decimal digits><suffix>", e.g. 00000000000000000042.index.
// base must be >= 0 (asserted).
std::string offset_file_name(int64_t base_offset, std::string_view suffix);
// The base offset of a name made by offset_file_name with this suffix; nullopt for any other
// name (wrong length or suffix, a non-digit, a value above INT64_MAX).
std::optional<int64_t> parse_offset_file_name(std::string_view name, std::string_view suffix);

inline constexpr uint32_t kOffsetIndexMagic = 0x474f4931;  // "GOI1"
inline constexpr uint32_t kTimeIndexMagic = 0x47544931;    // "GTI1"
inline constexpr size_t kIndexTrailerBytes = 8;            // magic u32 + crc32c u32

namespace index_format {
// Appends the trailer (magic, then CRC32C of everything before the CRC field) to `entries`.
Bytes seal(Bytes entries, uint32_t magic);
// Checks the trailer of a sealed file and that the entries region is a whole number of
// entry_bytes entries; returns the entries region. Errc::corrupt otherwise; never asserts.
Result<ByteView> unseal(ByteView bytes, uint32_t magic, size_t entry_bytes, std::string_view what);

// Removes the entries whose offset is >= `offset`, for both indexes (entries sorted by their
// `relative_offset` from `base_offset`).
template <typename Entry>
void truncate_entries(std::vector<Entry>& entries, int64_t base_offset, int64_t offset) {
  if (offset <= base_offset) {
    entries.clear();
    return;
  }
  uint64_t relative = static_cast<uint64_t>(offset - base_offset);
  auto first_removed = std::lower_bound(
      entries.begin(), entries.end(), relative,
      [](const Entry& e, uint64_t r) { return static_cast<uint64_t>(e.relative_offset) < r; });
  entries.erase(first_removed, entries.end());
}
}  // namespace index_format

class OffsetIndex {
 public:
  static constexpr size_t kEntryBytes = 8;

  struct Position {
    int64_t offset;
    uint32_t position;
    bool operator==(const Position&) const = default;
  };

  // base_offset: the segment's first offset; >= 0 (asserted).
  explicit OffsetIndex(int64_t base_offset);

  int64_t base_offset() const { return base_offset_; }
  size_t entries() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Entry i (0 <= i < entries(), asserted), in offset order.
  Position entry(size_t i) const;
  std::optional<Position> last_entry() const;

  // True if `offset` can be indexed by this segment: base_offset <= offset and the relative
  // offset fits in u32. The log must roll a new segment before appending an offset that does not.
  bool can_index(int64_t offset) const;
  // Adds an entry. Programming errors (asserted): !can_index(offset), offset not greater than the
  // last entry's, position smaller than the last entry's.
  void append(int64_t offset, uint32_t position);

  // The entry with the largest offset <= target, or {base_offset, 0} when there is none (the
  // segment's start): a forward scan of the .log file from `position` reaches `target`, if the
  // segment holds it. As Kafka's OffsetIndex.lookup.
  Position lookup(int64_t target) const;

  // Removes every entry with offset >= `offset` (the log truncated to `offset`), as Kafka's
  // truncateTo. Offsets at or below base_offset empty the index.
  void truncate_to(int64_t offset);
  void clear() { entries_.clear(); }

  // The file bytes: entries() * 8 bytes of entries, then the trailer.
  Bytes encode() const;
  // Parses encode()'s output. segment_bytes: the size of the segment's .log file; every
  // position must be below it (an entry points at the first byte of a batch). Errc::corrupt when
  // the trailer is missing or wrong, the entries region is not a multiple of 8 bytes, offsets
  // are not strictly increasing, positions decrease, or a position is >= segment_bytes. Never
  // asserts, whatever the bytes.
  static Result<OffsetIndex> decode(int64_t base_offset, ByteView bytes, uint32_t segment_bytes);

 private:
  struct Entry {
    uint32_t relative_offset;
    uint32_t position;
  };

  int64_t base_offset_;
  std::vector<Entry> entries_;
};

}  // namespace gregor::log
