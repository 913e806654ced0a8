#include "base/trace.h"

#include <fmt/format.h>

#include "base/random.h"

namespace gregor {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Runs of characters that need no escape are copied whole (trace writing is on the simulator's
  // hot path: every line passes through here).
  size_t plain = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += fmt::format("\\u{:04x}", c);
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

void TraceFields::key(std::string_view k) {
  if (!text_.empty()) text_ += ',';
  append_json_string(text_, k);
  text_ += ':';
}

TraceFields& TraceFields::add(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(text_, value);
  return *this;
}
TraceFields& TraceFields::add(std::string_view k, int64_t value) {
  key(k);
  fmt::format_to(std::back_inserter(text_), "{}", value);
  return *this;
}
TraceFields& TraceFields::add(std::string_view k, uint64_t value) {
  key(k);
  fmt::format_to(std::back_inserter(text_), "{}", value);
  return *this;
}
TraceFields& TraceFields::add(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}
TraceFields& TraceFields::add_raw(std::string_view k, std::string_view json) {
  key(k);
  text_ += json;
  return *this;
}

void TraceHash::add_line(std::string_view line) {
  h_ = fnv1a64(line, h_);
  h_ = fnv1a64("\n", h_);
}

std::string TraceHash::hex() const {
  return fmt::format("{:016x}", h_);
}

}  // namespace gregor
