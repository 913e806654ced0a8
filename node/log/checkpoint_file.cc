#include "node/log/checkpoint_file.h"

#include <fmt/format.h>

#include <charconv>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::log {

namespace {

constexpr std::string_view kVersionLine = "0";
constexpr std::string_view kCrcPrefix = "crc32c ";
constexpr size_t kCrcHexDigits = 8;

// Only the canonical spelling fmt would print is accepted ("7", "-3"; not "+7", "007", "-0"),
// so decode(encode(x)) == x and every accepted file re-encodes to the same bytes.
std::optional<int64_t> parse_canonical_int64(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (fmt::format("{}", v) != s) return std::nullopt;
  return v;
}

std::optional<uint32_t> parse_crc_hex(std::string_view s) {
  if (s.size() != kCrcHexDigits) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    v = v << 4 | digit;
  }
  return v;
}

// Splits off the next '\n'-terminated line; nullopt if no terminator is left.
std::optional<std::string_view> next_line(std::string_view& text) {
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  std::string_view line = text.substr(0, eol);
  text.remove_prefix(eol + 1);
  return line;
}

Status corrupt(std::string_view why) {
  return errorf(Errc::corrupt, "checkpoint: {}", why);
}

// Parses the checksummed part: version, count, entries, and nothing after them.
Result<CheckpointEntries> parse_body(std::string_view body) {
  auto version = next_line(body);
  if (!version || *version != kVersionLine) return corrupt("bad or unsupported version line");
  auto count_line = next_line(body);
  std::optional<int64_t> count = count_line ? parse_canonical_int64(*count_line) : std::nullopt;
  // Each entry takes at least 4 bytes ("k 0\n"), which bounds a forged count before reserve().
  if (!count || *count < 0 || static_cast<uint64_t>(*count) > body.size() / 4) {
    return corrupt("bad count line");
  }
  CheckpointEntries entries;
  entries.reserve(static_cast<size_t>(*count));
  for (int64_t i = 0; i < *count; ++i) {
    auto line = next_line(body);
    if (!line) return corrupt("fewer entries than the count");
    size_t space = line->find(' ');
    if (space == std::string_view::npos) return corrupt("entry without a value");
    std::string_view key = line->substr(0, space);
    auto value = parse_canonical_int64(line->substr(space + 1));
    if (!CheckpointFile::valid_key(key) || !value) return corrupt("bad entry");
    entries.emplace_back(std::string(key), *value);
  }
  if (!body.empty()) return corrupt("more entries than the count");
  return entries;
}

}  // namespace

struct CheckpointFile::WriteJob {
  Bytes bytes;
  std::vector<disk::StatusFn> done;
  disk::FilePtr file;
};

CheckpointFile::CheckpointFile(disk::Disk& disk, std::string path)
    : disk_(disk),
      path_(std::move(path)),
      temp_path_(path_ + std::string(kCheckpointTempSuffix)),
      dir_(disk::parent_dir(path_)) {}

// Dropping alive_ silences every completion still queued on the disk.
CheckpointFile::~CheckpointFile() = default;

bool CheckpointFile::valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

Bytes CheckpointFile::encode(const CheckpointEntries& entries) {
  std::string text = fmt::format("{}\n{}\n", kVersionLine, entries.size());
  for (const auto& [key, value] : entries) {
    GREGOR_ASSERT(valid_key(key), "bad checkpoint key '{}'", key);
    fmt::format_to(std::back_inserter(text), "{} {}\n", key, value);
  }
  uint32_t crc = crc32c(as_bytes(text));
  fmt::format_to(std::back_inserter(text), "{}{:08x}\n", kCrcPrefix, crc);
  return to_bytes(text);
}

Result<CheckpointEntries> CheckpointFile::decode(ByteView bytes) {
  if (bytes.size() > kCheckpointBytesMax) return corrupt("larger than kCheckpointBytesMax");
  std::string_view text = as_chars(bytes);
  if (text.size() < 2 || text.back() != '\n') return corrupt("missing final newline");
  // The CRC line is the last line; everything before it is what the CRC covers.
  size_t crc_line_start = text.rfind('\n', text.size() - 2);
  crc_line_start = crc_line_start == std::string_view::npos ? 0 : crc_line_start + 1;
  std::string_view crc_line = text.substr(crc_line_start, text.size() - 1 - crc_line_start);
  if (!crc_line.starts_with(kCrcPrefix)) return corrupt("missing crc32c line");
  auto stored = parse_crc_hex(crc_line.substr(kCrcPrefix.size()));
  if (!stored) return corrupt("bad crc32c line");
  std::string_view body = text.substr(0, crc_line_start);
  uint32_t computed = crc32c(as_bytes(body));
  if (*stored != computed) {
    return errorf(Errc::corrupt, "checkpoint: crc32c {:08x} != computed {:08x}", *stored, computed);
  }
  return parse_body(body);
}

void CheckpointFile::start_write(CheckpointEntries entries, disk::StatusFn done) {
  for (const auto& entry : entries) {
    GREGOR_ASSERT(valid_key(entry.first), "bad checkpoint key '{}'", entry.first);
  }
  // A write still waiting is superseded: its caller is answered by this newer one.
  pending_ = std::move(entries);
  pending_done_.push_back(std::move(done));
  if (!writing_) write_next();
}

void CheckpointFile::write_next() {
  writing_ = true;
  auto job = std::make_shared<WriteJob>();
  job->bytes = encode(*pending_);
  job->done = std::move(pending_done_);
  pending_.reset();
  pending_done_.clear();
  // Each disk completion is guarded, so after destruction the run stops where it is; the steps
  // themselves only start from a completion that found this object alive.
  std::vector<Step> steps;
  steps.push_back([this, job](Next next) {
    disk_.open(temp_path_, disk::OpenMode::open_or_create,
               guarded(alive_, [job, next](Result<disk::FilePtr> file) {
                 if (!file.ok()) return next(file.status());
                 job->file = std::move(file).value();
                 next(Status::Ok());
               }));
  });
  steps.push_back([this, job](Next next) {
    // Checked here rather than in write() so the error arrives as a completion.
    if (job->bytes.size() > kCheckpointBytesMax) {
      return next(errorf(Errc::limit_exceeded, "checkpoint {}: {} bytes > {}", path_,
                         job->bytes.size(), kCheckpointBytesMax));
    }
    // A temp file left by a crashed or failed write may be longer than ours.
    job->file->truncate(0, guarded(alive_, next));
  });
  steps.push_back([this, job](Next next) {
    job->file->pwrite(0, std::move(job->bytes), guarded(alive_, next));
  });
  // Durable before it gets the real name: a crash after the rename must not expose a named file
  // whose data never reached the disk.
  steps.push_back([this, job](Next next) { job->file->fsync(guarded(alive_, next)); });
  steps.push_back([this](Next next) { disk_.rename(temp_path_, path_, guarded(alive_, next)); });
  // The rename is durable only once the directory is.
  steps.push_back([this](Next next) { disk_.fsync_dir(dir_, guarded(alive_, next)); });
  run_steps(std::move(steps), [this, job](const Status& status) { write_finished(job, status); });
}

void CheckpointFile::write_finished(const std::shared_ptr<WriteJob>& job, const Status& status) {
  job->file.reset();
  // Start the next write before answering, so a write() issued from a callback queues behind it.
  if (pending_) {
    write_next();
  } else {
    writing_ = false;
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto& done : job->done) {
    if (alive.expired()) return;  // a callback destroyed this object: the rest are its owner's
    done(status);
  }
}

void CheckpointFile::start_read(ReadFn done) {
  disk_.open(path_, disk::OpenMode::open_existing,
             guarded(alive_, [this, done](Result<disk::FilePtr> opened) {
               if (!opened.ok()) return done(opened.status());
               disk::FilePtr file = std::move(opened).value();
               uint64_t size = file->size();
               if (size > kCheckpointBytesMax) {
                 return done(errorf(Errc::corrupt, "checkpoint {}: {} bytes > {}", path_, size,
                                    kCheckpointBytesMax));
               }
               // The handle rides along so the file stays open until the read completes.
               file->pread(0, static_cast<size_t>(size),
                           guarded(alive_, [file, done](Result<ReadBuffer> data) {
                             if (!data.ok()) return done(data.status());
                             done(decode(*data));
                           }));
             }));
}

}  // namespace gregor::log
