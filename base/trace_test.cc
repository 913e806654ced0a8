// Proves the trace line pieces: JSON string escaping (quotes, backslashes, control characters,
// plain runs and UTF-8 copied as they are), TraceFields' key order and value forms, and that the
// rolling hash depends on every byte and on line boundaries.
#include "base/trace.h"

#include <gtest/gtest.h>

namespace gregor {
namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(TraceJson, EscapesWhatJsonRequiresAndCopiesTheRest) {
  EXPECT_EQ(quoted(""), R"("")");
  EXPECT_EQ(quoted("plain text"), R"("plain text")");
  EXPECT_EQ(quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(quoted("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(quoted(std::string_view("\x01x\x1f", 3)), R"("\u0001x\u001f")");
  EXPECT_EQ(quoted(std::string_view("\0", 1)), R"("\u0000")");
  EXPECT_EQ(quoted("h\xc3\xa9llo"), "\"h\xc3\xa9llo\"");  // UTF-8 passes through
  EXPECT_EQ(quoted("\"\""), R"("\"\"")");                 // escapes back to back
}

TEST(TraceJson, FieldsKeepOrderAndTypes) {
  TraceFields f;
  f.add("s", "x\"y").add("i", int64_t{-3}).add("u", uint64_t{7}).add("b", true).add_raw("r", "[1]");
  EXPECT_EQ(f.text(), R"("s":"x\"y","i":-3,"u":7,"b":true,"r":[1])");
}

TEST(TraceHash, DependsOnEveryByteAndOnLineBoundaries) {
  TraceHash a, b, c;
  a.add_line("ab");
  b.add_line("a");
  b.add_line("b");
  c.add_line("ac");
  EXPECT_NE(a.value(), b.value());
  EXPECT_NE(a.value(), c.value());
  EXPECT_EQ(a.hex().size(), 16u);
}

}  // namespace
}  // namespace gregor
