// The partition Log on the real file system, through the production backends (EventLoop,
// PosixDisk, RealClock), measured against plain sequential write(2)/read(2) of the same bytes on
// the same file system in the same run, so the ratios compare across machines.
//
// Phases, in this order, each over `mb` MiB of record-batch bytes (1 KiB record values):
//   raw_write   write(2) of the ~1 MiB batches, back to back, into one file; fdatasync at the end
//   append_1m   Log::append of the same ~1 MiB batches, up to in_flight_max pending; Log::flush
//               at the end
//   raw_read    read(2) of the raw file in raw_buffer_bytes buffers
//   read        Log::read of the append_1m partition from offset 0, read_max_bytes per fetch
//   append_16k  as append_1m with ~16 KiB batches, into a fresh partition directory
// Batches are built before the clock starts (building records is the producer's job). Both
// write sides fsync exactly once at the end (the Log's flush also fsyncs the directory and
// writes its checkpoints). Both read sides run warm (just written, in the page cache) unless
// `cold`, which drops the cached pages of the raw file and the segments (posix_fadvise
// DONTNEED after fsync) before each read phase.
//
// Rates are MiB/s (2^20 bytes per second) of batch bytes as stored in the log.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace gregor::bench {

struct LogBenchOptions {
  std::string parent_dir = "/tmp";  // a fresh mkdtemp directory is made (and removed) inside it
  uint64_t mb = 512;                // MiB of batch bytes per phase
  size_t record_bytes = 1024;       // value size of each record
  size_t batch_bytes_small = 16 << 10;
  size_t batch_bytes_large = 1 << 20;  // must stay within the Log's max.message.bytes
  size_t in_flight_max = 64;           // appends submitted and not yet completed
  size_t read_max_bytes = 1 << 20;     // max_bytes of each Log::read (a fetch)
  size_t raw_buffer_bytes = 1 << 20;   // read(2) size of the raw read
  bool fsync = true;      // false: neither write side fsyncs (measures the CPU and page-cache path)
  bool cold = false;      // needs fsync (only clean pages can be dropped)
  bool keep_dir = false;  // leave the directory behind (for dump-log or inspection)
};

struct PhaseResult {
  uint64_t bytes = 0;
  double seconds = 0;
  double mb_s() const { return seconds > 0 ? static_cast<double>(bytes) / (1 << 20) / seconds : 0; }
};

struct LogBenchResult {
  LogBenchOptions options;
  std::string dir;  // the directory used (removed unless keep_dir)
  PhaseResult raw_write, append_16k, append_1m, raw_read, read;
  uint64_t batches_16k = 0, batches_1m = 0, reads = 0;
  double append_ratio() const;  // append_1m / raw_write
  double read_ratio() const;    // read / raw_read
  // One JSON object: the rates, ratios, bytes, seconds per phase and the config used.
  nlohmann::ordered_json to_json() const;
  // A few aligned lines for a terminal.
  std::string to_text() const;
};

// Runs every phase. Fails (with the step that failed) on any I/O or Log error, or when what is
// read back differs in size from what was appended.
Result<LogBenchResult> run_log_bench(const LogBenchOptions& options);

}  // namespace gregor::bench
