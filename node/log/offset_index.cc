#include "node/log/offset_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "base/crc32c.h"

namespace gregor::log {

namespace {
constexpr size_t kFileNameDigits = 20;  // enough for any non-negative int64, as Kafka pads
}  // namespace

std::string offset_file_name(int64_t base_offset, std::string_view suffix) {
  GREGOR_ASSERT(base_offset >= 0, "negative base offset {}", base_offset);
  return fmt::format("{:020d}{}", base_offset, suffix);
}

std::optional<int64_t> parse_offset_file_name(std::string_view name, std::string_view suffix) {
  if (name.size() != kFileNameDigits + suffix.size()) return std::nullopt;
  if (name.substr(kFileNameDigits) != suffix) return std::nullopt;
  // 20 digits can exceed even UINT64_MAX: check for overflow before each step.
  uint64_t value = 0;
  for (size_t i = 0; i < kFileNameDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(value);
}

namespace index_format {

Bytes seal(Bytes entries, uint32_t magic) {
  Writer w(entries);
  w.be<uint32_t>(magic);
  // The CRC covers the magic too, so the whole file is checked by one comparison.
  uint32_t crc = crc32c(ByteView(entries));
  w.be<uint32_t>(crc);
  return entries;
}

Result<ByteView> unseal(ByteView bytes, uint32_t magic, size_t entry_bytes, std::string_view what) {
  if (bytes.size() < kIndexTrailerBytes) {
    return errorf(Errc::corrupt, "{}: {} bytes, shorter than the trailer", what, bytes.size());
  }
  size_t body = bytes.size() - kIndexTrailerBytes;
  uint32_t found_magic = load_be<uint32_t>(bytes.data() + body);
  uint32_t found_crc = load_be<uint32_t>(bytes.data() + body + 4);
  if (found_magic != magic) {
    return errorf(Errc::corrupt, "{}: bad magic {:08x}", what, found_magic);
  }
  uint32_t crc = crc32c(bytes.first(body + 4));
  if (found_crc != crc) {
    return errorf(Errc::corrupt, "{}: crc32c {:08x} != computed {:08x}", what, found_crc, crc);
  }
  if (body % entry_bytes != 0) {
    return errorf(Errc::corrupt, "{}: {} entry bytes, not a multiple of {}", what, body,
                  entry_bytes);
  }
  return bytes.first(body);
}

}  // namespace index_format

OffsetIndex::OffsetIndex(int64_t base_offset) : base_offset_(base_offset) {
  GREGOR_ASSERT(base_offset >= 0, "negative base offset {}", base_offset);
}

OffsetIndex::Position OffsetIndex::entry(size_t i) const {
  GREGOR_ASSERT(i < entries_.size(), "entry {} of {}", i, entries_.size());
  return {base_offset_ + entries_[i].relative_offset, entries_[i].position};
}

std::optional<OffsetIndex::Position> OffsetIndex::last_entry() const {
  if (entries_.empty()) return std::nullopt;
  return entry(entries_.size() - 1);
}

bool OffsetIndex::can_index(int64_t offset) const {
  return offset >= base_offset_ &&
         static_cast<uint64_t>(offset - base_offset_) <= std::numeric_limits<uint32_t>::max();
}

void OffsetIndex::append(int64_t offset, uint32_t position) {
  GREGOR_ASSERT(can_index(offset), "offset {} outside segment {}", offset, base_offset_);
  auto relative = static_cast<uint32_t>(offset - base_offset_);
  if (!entries_.empty()) {
    GREGOR_ASSERT(relative > entries_.back().relative_offset,
                  "offset index append {} after {}: offsets must increase", offset,
                  base_offset_ + entries_.back().relative_offset);
    GREGOR_ASSERT(position >= entries_.back().position, "position {} after {}", position,
                  entries_.back().position);
  }
  entries_.push_back({relative, position});
}

OffsetIndex::Position OffsetIndex::lookup(int64_t target) const {
  if (target < base_offset_) return {base_offset_, 0};
  // Targets past the u32 range compare as larger than every entry.
  uint64_t relative = static_cast<uint64_t>(target - base_offset_);
  auto after = std::upper_bound(
      entries_.begin(), entries_.end(), relative,
      [](uint64_t r, const Entry& e) { return r < static_cast<uint64_t>(e.relative_offset); });
  if (after == entries_.begin()) return {base_offset_, 0};
  return entry(static_cast<size_t>(after - entries_.begin()) - 1);
}

void OffsetIndex::truncate_to(int64_t offset) {
  index_format::truncate_entries(entries_, base_offset_, offset);
}

Bytes OffsetIndex::encode() const {
  Bytes out;
  out.reserve(entries_.size() * kEntryBytes + kIndexTrailerBytes);
  Writer w(out);
  for (const Entry& e : entries_) {
    w.be<uint32_t>(e.relative_offset);
    w.be<uint32_t>(e.position);
  }
  return index_format::seal(std::move(out), kOffsetIndexMagic);
}

Result<OffsetIndex> OffsetIndex::decode(int64_t base_offset, ByteView bytes,
                                        uint32_t segment_bytes) {
  auto body = index_format::unseal(bytes, kOffsetIndexMagic, kEntryBytes, "offset index");
  if (!body.ok()) return body.status();
  OffsetIndex index(base_offset);
  size_t n = body->size() / kEntryBytes;
  index.entries_.reserve(n);
  Reader r(*body);
  for (size_t i = 0; i < n; ++i) {
    uint32_t relative = r.be<uint32_t>();
    uint32_t position = r.be<uint32_t>();
    // The CRC matched, so these would be our own bugs or a foreign file; still never assert.
    if (static_cast<int64_t>(relative) > std::numeric_limits<int64_t>::max() - base_offset) {
      return errorf(Errc::corrupt, "offset index entry {}: offset overflows", i);
    }
    if (!index.entries_.empty() && relative <= index.entries_.back().relative_offset) {
      return errorf(Errc::corrupt, "offset index entry {}: offset {} not above {}", i,
                    base_offset + relative, base_offset + index.entries_.back().relative_offset);
    }
    if (!index.entries_.empty() && position < index.entries_.back().position) {
      return errorf(Errc::corrupt, "offset index entry {}: position {} below {}", i, position,
                    index.entries_.back().position);
    }
    if (position >= segment_bytes) {
      return errorf(Errc::corrupt, "offset index entry {}: position {} past segment of {} bytes", i,
                    position, segment_bytes);
    }
    index.entries_.push_back({relative, position});
  }
  return index;
}

}  // namespace gregor::log
