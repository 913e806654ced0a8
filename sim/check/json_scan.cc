// The JSON reader (see json_scan.h). Recursive descent over the line; nodes live in one vector
// reused from line to line, so steady-state parsing allocates nothing but unescaped strings.
// Indexes, not references, are kept across recursive calls: the vector may grow under them.
#include "sim/check/json_scan.h"

#include <fmt/format.h>

#include <cstring>

namespace gregor::check {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

Status JsonDoc::fail(std::string_view what) const {
  return errorf(Errc::invalid_argument, "bad JSON: {} at column {}", what, at_ + 1);
}

void JsonDoc::skip_space() {
  while (at_ < text_.size()) {
    char c = text_[at_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    ++at_;
  }
}

Status JsonDoc::parse(std::string_view text) {
  text_ = text;
  at_ = 0;
  nodes_.clear();
  unescaped_used_ = 0;
  skip_space();
  GREGOR_RETURN_IF_ERROR(value(0));
  skip_space();
  if (at_ != text_.size()) return fail("unexpected text after the value");
  return Status::Ok();
}

Status JsonDoc::value(int depth) {
  if (at_ >= text_.size()) return fail("unexpected end");
  auto self = static_cast<uint32_t>(nodes_.size());
  nodes_.emplace_back();
  char c = text_[at_];
  if (c == '{' || c == '[') {
    if (depth >= kJsonDepthMax) return fail("nested too deep");
    bool object = c == '{';
    char close = object ? '}' : ']';
    nodes_[self].type = object ? JsonNode::Type::object : JsonNode::Type::array;
    ++at_;
    skip_space();
    uint32_t count = 0;
    if (at_ < text_.size() && text_[at_] == close) {
      ++at_;
    } else {
      for (;;) {
        std::string_view key;
        if (object) {
          if (at_ >= text_.size() || text_[at_] != '"') return fail("expected a member name");
          GREGOR_RETURN_IF_ERROR(string(key));
          skip_space();
          if (at_ >= text_.size() || text_[at_] != ':') return fail("expected ':'");
          ++at_;
          skip_space();
        }
        auto child = static_cast<uint32_t>(nodes_.size());
        GREGOR_RETURN_IF_ERROR(value(depth + 1));
        nodes_[child].key = key;
        ++count;
        skip_space();
        if (at_ < text_.size() && text_[at_] == ',') {
          ++at_;
          skip_space();
          continue;
        }
        if (at_ < text_.size() && text_[at_] == close) {
          ++at_;
          break;
        }
        return fail(object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    nodes_[self].size = count;
  } else if (c == '"') {
    std::string_view s;
    GREGOR_RETURN_IF_ERROR(string(s));
    nodes_[self].type = JsonNode::Type::string;
    nodes_[self].string = s;
  } else if (c == 't' || c == 'f') {
    GREGOR_RETURN_IF_ERROR(literal(c == 't' ? "true" : "false"));
    nodes_[self].type = JsonNode::Type::boolean;
    nodes_[self].boolean = c == 't';
  } else if (c == 'n') {
    GREGOR_RETURN_IF_ERROR(literal("null"));
  } else if (c == '-' || is_digit(c)) {
    GREGOR_RETURN_IF_ERROR(number(nodes_[self]));
  } else {
    return fail(fmt::format("unexpected '{}'", c));
  }
  nodes_[self].next = static_cast<uint32_t>(nodes_.size());
  return Status::Ok();
}

Status JsonDoc::literal(std::string_view word) {
  if (text_.substr(at_, word.size()) != word) return fail("unexpected word");
  at_ += word.size();
  return Status::Ok();
}

Status JsonDoc::number(JsonNode& n) {
  bool negative = text_[at_] == '-';
  if (negative) ++at_;
  if (at_ >= text_.size() || !is_digit(text_[at_])) return fail("bad number");
  uint64_t magnitude = 0;
  bool overflow = false;
  if (text_[at_] == '0') {
    ++at_;
  } else {
    for (; at_ < text_.size() && is_digit(text_[at_]); ++at_) {
      auto d = static_cast<uint64_t>(text_[at_] - '0');
      if (magnitude > (UINT64_MAX - d) / 10) overflow = true;
      magnitude = magnitude * 10 + d;
    }
  }
  bool fraction = false;
  if (at_ < text_.size() && text_[at_] == '.') {
    fraction = true;
    if (++at_ >= text_.size() || !is_digit(text_[at_])) return fail("bad number");
    while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
  }
  if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
    fraction = true;
    ++at_;
    if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
    if (at_ >= text_.size() || !is_digit(text_[at_])) return fail("bad number");
    while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
  }
  constexpr uint64_t kInt64Max = static_cast<uint64_t>(INT64_MAX);
  if (fraction || overflow || magnitude > kInt64Max + (negative ? 1 : 0)) {
    n.type = JsonNode::Type::number;
  } else {
    n.type = JsonNode::Type::integer;
    n.integer = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  }
  return Status::Ok();
}

// At the opening quote. Fast path: no escape, a view into the line.
Status JsonDoc::string(std::string_view& out) {
  size_t start = ++at_;
  while (at_ < text_.size()) {
    char c = text_[at_];
    if (c == '"') {
      out = text_.substr(start, at_ - start);
      ++at_;
      return Status::Ok();
    }
    if (c == '\\') break;
    if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
    ++at_;
  }
  if (at_ >= text_.size()) return fail("unterminated string");
  if (unescaped_used_ == unescaped_.size()) unescaped_.emplace_back();
  std::string& buf = unescaped_[unescaped_used_++];
  buf.assign(text_.substr(start, at_ - start));
  while (at_ < text_.size()) {
    char c = text_[at_++];
    if (c == '"') {
      out = buf;
      return Status::Ok();
    }
    if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
    if (c != '\\') {
      buf += c;
      continue;
    }
    if (at_ >= text_.size()) break;
    GREGOR_RETURN_IF_ERROR(escape(buf));
  }
  return fail("unterminated string");
}

// After a backslash: appends what the escape stands for.
Status JsonDoc::escape(std::string& buf) {
  constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
  char e = text_[at_++];
  if (size_t i = kFrom.find(e); i != std::string_view::npos) {
    buf += kTo[i];
    return Status::Ok();
  }
  if (e != 'u') return fail("bad escape");
  uint32_t cp = 0, low = 0;
  if (!hex4(cp) || (cp >= 0xDC00 && cp <= 0xDFFF)) return fail("bad \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: its low half must follow
    if (text_.substr(at_, 2) != "\\u") return fail("bad \\u escape");
    at_ += 2;
    if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return fail("bad \\u escape");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  append_utf8(buf, cp);
  return Status::Ok();
}

bool JsonDoc::hex4(uint32_t& v) {
  if (at_ + 4 > text_.size()) return false;
  v = 0;
  for (size_t i = 0; i < 4; ++i) {
    int h = hex_value(text_[at_ + i]);
    if (h < 0) return false;
    v = v * 16 + static_cast<uint32_t>(h);
  }
  at_ += 4;
  return true;
}

uint32_t JsonDoc::find(uint32_t object, std::string_view key) const {
  const JsonNode& o = nodes_[object];
  if (o.type != JsonNode::Type::object) return kNotFound;
  uint32_t i = object + 1;
  for (uint32_t k = 0; k < o.size; ++k, i = nodes_[i].next)
    if (nodes_[i].key == key) return i;
  return kNotFound;
}

uint32_t JsonDoc::child(uint32_t array, uint32_t i) const {
  uint32_t at = array + 1;
  for (uint32_t k = 0; k < i; ++k) at = nodes_[at].next;
  return at;
}

}  // namespace gregor::check
