// A small JSON reader for history lines: one line into a flat, preorder vector of nodes. Strings
// without escapes point into the line and nothing is allocated per value once the JsonDoc's
// vectors have grown, which makes it about ten times faster than building an nlohmann::json
// for each line (the checker's time is almost all parsing).
//
// Contract: parse() accepts exactly RFC 8259 JSON (one value, whitespace around it), nested at
// most kJsonDepthMax deep, and reports anything else as invalid_argument "bad JSON: <what> at
// column N". Strings are unescaped (\uXXXX and surrogate pairs to UTF-8); other bytes are kept
// as they are (UTF-8 is not validated). Numbers with a fraction or exponent, or outside int64,
// are `number` nodes with no integer value. Node views stay valid until the next parse() or the
// line's storage goes away.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gregor::check {

inline constexpr int kJsonDepthMax = 64;

struct JsonNode {
  enum class Type : uint8_t { null, boolean, integer, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  int64_t integer = 0;
  std::string_view string;  // a string's text, unescaped
  std::string_view key;     // the member name when the parent is an object
  uint32_t size = 0;        // array or object: the number of children
  uint32_t next = 0;        // the index just past this node's subtree (its next sibling)
};

class JsonDoc {
 public:
  Status parse(std::string_view text);

  const JsonNode& node(uint32_t i) const { return nodes_[i]; }
  static constexpr uint32_t kRoot = 0;
  static constexpr uint32_t kNotFound = UINT32_MAX;

  // The member `key` of object node `object`, or kNotFound.
  uint32_t find(uint32_t object, std::string_view key) const;
  // The i-th child of array node `array` (i < size), walking the siblings.
  uint32_t child(uint32_t array, uint32_t i) const;

 private:
  Status value(int depth);
  Status string(std::string_view& out);
  Status escape(std::string& buf);
  bool hex4(uint32_t& v);
  Status number(JsonNode& n);
  Status literal(std::string_view word);
  Status fail(std::string_view what) const;
  void skip_space();

  std::string_view text_;
  size_t at_ = 0;
  std::vector<JsonNode> nodes_;
  std::deque<std::string> unescaped_;  // strings that had escapes (stable addresses)
  size_t unescaped_used_ = 0;
};

}  // namespace gregor::check
