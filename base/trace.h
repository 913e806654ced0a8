// Structured trace events: one JSON object per line, deterministic (no wall-clock values, fixed
// key order), plus a rolling hash of every line. The simulator records every run this way; the
// same trace hash from the same (scenario, seed) is the determinism contract.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gregor {

// Builds the fields of one trace line: `"k":v` pairs in the order added.
class TraceFields {
 public:
  TraceFields& add(std::string_view key, std::string_view value);
  TraceFields& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  TraceFields& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  TraceFields& add(std::string_view key, int64_t value);
  TraceFields& add(std::string_view key, uint64_t value);
  TraceFields& add(std::string_view key, int value) {
    return add(key, static_cast<int64_t>(value));
  }
  TraceFields& add(std::string_view key, unsigned value) {
    return add(key, static_cast<uint64_t>(value));
  }
  TraceFields& add(std::string_view key, bool value);
  // `json` must already be valid JSON (an object or array built by the caller).
  TraceFields& add_raw(std::string_view key, std::string_view json);

  const std::string& text() const { return text_; }  // `"a":1,"b":"x"` without braces

 private:
  void key(std::string_view k);
  std::string text_;
};

// Appends s to out as a JSON string literal with escapes.
void append_json_string(std::string& out, std::string_view s);

// Where node and client code send trace events. The simulator stamps virtual time and node;
// production may write them to a file or drop them.
class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void event(std::string_view kind, const TraceFields& fields) = 0;
};

class NullTracer final : public Tracer {
 public:
  void event(std::string_view, const TraceFields&) override {}
};

// Rolling 64-bit hash of trace lines (FNV-1a over bytes, lines separated).
class TraceHash {
 public:
  void add_line(std::string_view line);
  uint64_t value() const { return h_; }
  std::string hex() const;

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace gregor
