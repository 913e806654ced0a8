#include "base/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace gregor {
namespace {

const LogContext* g_context = nullptr;
std::string g_node_name = "-";

class TimeFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (g_context) {
      std::string t = g_context->time_text();
      dest.append(t.data(), t.data() + t.size());
      return;
    }
    // Production: the message's own wall-clock stamp, which spdlog took; no clock read here.
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    auto text = fmt::format("{}.{:06d}", us.count() / 1000000, us.count() % 1000000);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TimeFlag>();
  }
};

class NodeFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view n = g_context ? g_context->node_text() : std::string_view(g_node_name);
    dest.append(n.data(), n.data() + n.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<NodeFlag>();
  }
};

}  // namespace

void init_logging(std::string_view level, spdlog::sink_ptr sink) {
  // Logs go to stderr by default: stdout carries command output (summaries, JSON) for scripts.
  auto logger = spdlog::get("gregor");
  if (sink) {
    if (logger) spdlog::drop("gregor");
    logger = std::make_shared<spdlog::logger>("gregor", sink);
    spdlog::register_logger(logger);
    spdlog::set_default_logger(logger);
  } else if (!logger) {
    logger = spdlog::stderr_color_mt("gregor");
    spdlog::set_default_logger(logger);
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<TimeFlag>('*').add_flag<NodeFlag>('N').set_pattern("[%*] [%N] [%^%l%$] %v");
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

void set_log_context(const LogContext* ctx) {
  g_context = ctx;
}
void set_log_node_name(std::string name) {
  g_node_name = std::move(name);
}

}  // namespace gregor
