#include "sim/trace_log.h"

#include <fmt/format.h>

#include "base/assert.h"

namespace gregor::sim {

TraceLog::TraceLog(Options options) : options_(std::move(options)) {
  if (!options_.path.empty()) {
    file_ = std::make_unique<std::ofstream>(options_.path, std::ios::out | std::ios::trunc);
    if (!*file_) throw std::runtime_error(fmt::format("cannot write trace file {}", options_.path));
  }
}

void TraceLog::write(MonoTime t, std::string_view node, std::string_view kind,
                     const TraceFields& fields) {
  line_.clear();
  fmt::format_to(std::back_inserter(line_), "{{\"t\":{},\"n\":", to_ns(t));
  append_json_string(line_, node);
  line_ += ",\"k\":";
  append_json_string(line_, kind);
  if (!fields.text().empty()) {
    line_ += ',';
    line_ += fields.text();
  }
  line_ += '}';
  hash_.add_line(line_);
  ++count_;
  if (options_.keep_lines && kept_.size() < options_.keep_lines_max) kept_.push_back(line_);
  if (file_) {
    *file_ << line_ << '\n';
  }
  if (sink_) sink_(line_);
}

}  // namespace gregor::sim
