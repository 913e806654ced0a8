// A history file for real runs: `gregor produce --history FILE` and `gregor consume --history FILE`
// append their operations in the format of docs/history-format.md, so `gregor check FILE` checks a
// run against a real broker exactly as it checks a simulated one. Lines are stamped with
// CLOCK_MONOTONIC nanoseconds (comparable across processes of one machine) and written with one
// write(2) each to a file opened O_APPEND, so a producer and a consumer may share one file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/trace.h"

namespace gregor::cli {

class HistoryFile {
 public:
  // Empty path: a recorder that records nothing.
  static Result<HistoryFile> open(const std::string& path, std::string process);
  HistoryFile() = default;
  HistoryFile(HistoryFile&& other) noexcept;
  HistoryFile& operator=(HistoryFile&&) = delete;
  ~HistoryFile();

  bool enabled() const { return fd_ >= 0; }
  uint64_t next_op() { return next_op_++; }
  // One line {"t":..,"n":process,"k":kind,<fields>}; a failed write is reported once on stderr.
  void write(std::string_view kind, const TraceFields& fields);

 private:
  HistoryFile(int fd, std::string process) : fd_(fd), process_(std::move(process)) {}
  int fd_ = -1;
  std::string process_;
  uint64_t next_op_ = 1;
  bool write_failed_ = false;
};

}  // namespace gregor::cli
