#include "cli/history_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace gregor::cli {

Result<HistoryFile> HistoryFile::open(const std::string& path, std::string process) {
  if (path.empty()) return HistoryFile();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errorf(Errc::io_error, "cannot open history file {}: {}", path, std::strerror(errno));
  }
  return HistoryFile(fd, std::move(process));
}

HistoryFile::HistoryFile(HistoryFile&& other) noexcept
    : fd_(other.fd_),
      process_(std::move(other.process_)),
      next_op_(other.next_op_),
      write_failed_(other.write_failed_) {
  other.fd_ = -1;
}

HistoryFile::~HistoryFile() {
  if (fd_ >= 0) ::close(fd_);
}

void HistoryFile::write(std::string_view kind, const TraceFields& fields) {
  if (fd_ < 0) return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t t = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  std::string line = fmt::format("{{\"t\":{},\"n\":", t);
  append_json_string(line, process_);
  line += ",\"k\":";
  append_json_string(line, kind);
  if (!fields.text().empty()) line += "," + fields.text();
  line += "}\n";
  // One write per line: O_APPEND keeps whole lines whole between processes sharing the file.
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()) && !write_failed_) {
    write_failed_ = true;
    std::cerr << fmt::format("gregor: writing the history failed: {}\n",
                             n < 0 ? std::strerror(errno) : "short write");
  }
}

}  // namespace gregor::cli
