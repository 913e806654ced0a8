// Logging set-up (spdlog). The pattern carries the time and node of the event being handled: in
// simulation that is virtual time and the simulated node (set by the World around each event), in
// production the real wall clock and this broker's name.
//
//   [  12.345678s] [n2] [info] became leader of t-0 epoch 3
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace gregor {

// What the log pattern shows for "time" and "node". The simulator installs one that reads the
// World; production leaves the default (wall clock, process-wide node name).
class LogContext {
 public:
  virtual ~LogContext() = default;
  virtual std::string time_text() const = 0;
  virtual std::string_view node_text() const = 0;
};

// Installs the Gregor logger (stderr, or `sink` when given, e.g. a test's) with the Gregor
// pattern as the default logger. Level names as spdlog's ("info", "debug").
void init_logging(std::string_view level = "info", spdlog::sink_ptr sink = nullptr);
// Sets the context the pattern reads (nullptr: production default). The caller keeps ownership.
void set_log_context(const LogContext* ctx);
// Production default: node name printed when no context is installed.
void set_log_node_name(std::string name);

}  // namespace gregor
