// Tests of JsonDoc, the checker's JSON reader. Proven:
//  - it reads what nlohmann reads: random JSON values (nested arrays and objects, strings of any
//    code point, integers across the int64 range), dumped by nlohmann with and without \u
//    escapes, come back as the same value; and random text over JSON's alphabet is accepted
//    exactly when nlohmann::json::accept accepts it (a differential oracle);
//  - escapes, surrogate pairs, numbers at the int64 edges, and each kind of malformed input
//    (with the column of the problem) behave as json_scan.h says.
#include "sim/check/json_scan.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace gregor::check {
namespace {

using Json = nlohmann::json;
using Type = JsonNode::Type;

// Node i of the document as an nlohmann value (numbers that are not integers become null).
Json to_json(const JsonDoc& doc, uint32_t i) {
  const JsonNode& n = doc.node(i);
  switch (n.type) {
    case Type::null:
      return nullptr;
    case Type::boolean:
      return n.boolean;
    case Type::integer:
      return n.integer;
    case Type::number:
      return nullptr;
    case Type::string:
      return std::string(n.string);
    case Type::array: {
      Json a = Json::array();
      for (uint32_t k = 0, c = i + 1; k < n.size; ++k, c = doc.node(c).next)
        a.push_back(to_json(doc, c));
      return a;
    }
    case Type::object: {
      Json o = Json::object();
      for (uint32_t k = 0, c = i + 1; k < n.size; ++k, c = doc.node(c).next)
        o[std::string(doc.node(c).key)] = to_json(doc, c);
      return o;
    }
  }
  return nullptr;
}

std::string utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) {
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;  // surrogates are not scalar values
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

rc::Gen<std::string> text_gen() {
  return rc::gen::map(
      rc::gen::container<std::u32string>(rc::gen::oneOf(rc::gen::inRange<char32_t>(0, 0x80),
                                                        rc::gen::inRange<char32_t>(0, 0x110000))),
      utf8);
}

rc::Gen<Json> json_gen(int depth) {
  rc::Gen<Json> scalar =
      rc::gen::oneOf(rc::gen::just(Json(nullptr)),
                     rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Json(b); }),
                     rc::gen::map(rc::gen::arbitrary<int64_t>(), [](int64_t v) { return Json(v); }),
                     rc::gen::map(text_gen(), [](std::string s) { return Json(std::move(s)); }));
  if (depth == 0) return scalar;
  auto array = rc::gen::map(rc::gen::container<std::vector<Json>>(json_gen(depth - 1)),
                            [](std::vector<Json> v) { return Json(std::move(v)); });
  auto object =
      rc::gen::map(rc::gen::container<std::map<std::string, Json>>(text_gen(), json_gen(depth - 1)),
                   [](std::map<std::string, Json> m) { return Json(std::move(m)); });
  return rc::gen::oneOf(scalar, array, object);
}

RC_GTEST_PROP(JsonScan, ReadsBackWhatNlohmannWrites, ()) {
  Json value = *rc::gen::resize(12, json_gen(3));  // up to 12 per level: quick, still deep
  bool ascii = *rc::gen::arbitrary<bool>();
  std::string text = value.dump(*rc::gen::element(-1, 0, 2), ' ', ascii);
  JsonDoc doc;
  Status s = doc.parse(text);
  RC_ASSERT(s.ok());
  RC_ASSERT(to_json(doc, JsonDoc::kRoot) == value);
}

RC_GTEST_PROP(JsonScan, AcceptsExactlyWhatNlohmannAccepts, ()) {
  auto alphabet =
      rc::gen::element('{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '0', '1', '9', '-', '+',
                       '.', 'e', 'E', 't', 'r', 'u', 'f', 'a', 'l', 's', 'n', 'x', '\t', '/');
  std::string text;
  if (*rc::gen::arbitrary<bool>()) {
    text = *rc::gen::container<std::string>(alphabet);
  } else {  // a valid text (ASCII: nlohmann also checks UTF-8) with a few one-byte edits
    text = (*rc::gen::resize(8, json_gen(2))).dump(-1, ' ', true);
    for (int edits = *rc::gen::inRange(0, 3); edits > 0; --edits) {
      size_t at = *rc::gen::inRange<size_t>(0, text.size() + 1);
      int how = *rc::gen::inRange(0, 3);
      if (how == 0) text.insert(at, 1, *alphabet);
      if (how == 1 && at < text.size()) text.erase(at, 1);
      if (how == 2 && at < text.size()) text[at] = *alphabet;
    }
  }
  JsonDoc doc;
  bool accepted = Json::accept(text);
  RC_TAG(accepted ? "valid" : "invalid");
  RC_ASSERT(doc.parse(text).ok() == accepted);
}

TEST(JsonScan, EscapesAndNumbers) {
  JsonDoc doc;
  ASSERT_TRUE(doc.parse(R"( {"a":["x\u00e9\ud83d\ude00\n\"",-0,1.5,1e3,true,null],"b":{}} )").ok());
  uint32_t a = doc.find(JsonDoc::kRoot, "a");
  ASSERT_NE(a, JsonDoc::kNotFound);
  EXPECT_EQ(doc.node(doc.child(a, 0)).string, "x\xc3\xa9\xf0\x9f\x98\x80\n\"");
  EXPECT_EQ(doc.node(doc.child(a, 1)).type, Type::integer);
  EXPECT_EQ(doc.node(doc.child(a, 2)).type, Type::number);
  EXPECT_EQ(doc.node(doc.child(a, 3)).type, Type::number);
  EXPECT_TRUE(doc.node(doc.child(a, 4)).boolean);
  EXPECT_EQ(doc.node(doc.child(a, 5)).type, Type::null);
  EXPECT_EQ(doc.node(doc.find(JsonDoc::kRoot, "b")).size, 0u);
  EXPECT_EQ(doc.find(JsonDoc::kRoot, "c"), JsonDoc::kNotFound);

  ASSERT_TRUE(doc.parse("[9223372036854775807,9223372036854775808,-9223372036854775808,"
                        "-9223372036854775809]")
                  .ok());
  EXPECT_EQ(doc.node(doc.child(0, 0)).integer, INT64_MAX);
  EXPECT_EQ(doc.node(doc.child(0, 1)).type, Type::number);
  EXPECT_EQ(doc.node(doc.child(0, 2)).integer, INT64_MIN);
  EXPECT_EQ(doc.node(doc.child(0, 3)).type, Type::number);
}

TEST(JsonScan, ErrorsNameTheProblemAndColumn) {
  auto error = [](std::string_view text) {
    JsonDoc doc;
    return doc.parse(text).message();
  };
  EXPECT_EQ(error(R"({"a" 1})"), "bad JSON: expected ':' at column 6");
  EXPECT_EQ(error("[1,]"), "bad JSON: unexpected ']' at column 4");
  EXPECT_EQ(error(R"("abc)"), "bad JSON: unterminated string at column 5");
  EXPECT_EQ(error(R"("\x")"), "bad JSON: bad escape at column 4");
  EXPECT_EQ(error(R"("\ud800")"), "bad JSON: bad \\u escape at column 8");
  EXPECT_EQ(error("\"a\tb\""), "bad JSON: control character in a string at column 3");
  EXPECT_EQ(error("01"), "bad JSON: unexpected text after the value at column 2");
  EXPECT_EQ(error(""), "bad JSON: unexpected end at column 1");
  EXPECT_EQ(error(R"({"a":1)"), "bad JSON: expected ',' or '}' at column 7");
  EXPECT_EQ(error(std::string(kJsonDepthMax + 1, '[') + std::string(kJsonDepthMax + 1, ']')),
            "bad JSON: nested too deep at column 65");
  JsonDoc doc;
  EXPECT_TRUE(doc.parse(std::string(kJsonDepthMax, '[') + std::string(kJsonDepthMax, ']')).ok());
}

}  // namespace
}  // namespace gregor::check
