// The run's trace: JSON lines stamped with virtual time and node, hashed as they are written.
// Optionally kept in memory (for the determinism check's first-difference report) and/or written
// to a file (`--trace FILE`).
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "base/trace.h"

namespace gregor::sim {

class TraceLog {
 public:
  struct Options {
    bool keep_lines = false;
    std::string path;  // empty: no file
    // Bound on lines kept in memory; past it only the hash continues.
    size_t keep_lines_max = 2'000'000;
  };

  TraceLog() = default;
  explicit TraceLog(Options options);

  // Every line written is also passed to sink (the scenario runner's history checker), if set.
  void set_sink(std::function<void(std::string_view line)> sink) { sink_ = std::move(sink); }

  void write(MonoTime t, std::string_view node, std::string_view kind, const TraceFields& fields);

  uint64_t hash() const { return hash_.value(); }
  std::string hash_hex() const { return hash_.hex(); }
  uint64_t lines() const { return count_; }
  const std::vector<std::string>& kept_lines() const { return kept_; }

 private:
  Options options_;
  TraceHash hash_;
  uint64_t count_ = 0;
  std::vector<std::string> kept_;
  std::unique_ptr<std::ofstream> file_;
  std::string line_;  // reused buffer
  std::function<void(std::string_view)> sink_;
};

}  // namespace gregor::sim
