// Test support: random message values driven by the same fields tables as the codec. Every field
// on the wire in the requested version gets a random value (short strings and byte strings,
// arrays of 0-3 elements), absent fields keep their defaults, and nulls appear only in versions
// where the field is nullable. Call from inside a RapidCheck property (uses operator* on gens).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <sstream>
#include <string>
#include <string_view>

#include "node/kafka/protocol.h"

namespace gregor::kafka::testing {

// A value in [min, max_exclusive) drawn from the whole range at every RapidCheck size
// (gen::inRange alone only uses part of the range at small sizes: arrays would stay empty).
template <typename T>
T uniform(T min, T max_exclusive) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(min, max_exclusive));
}

template <typename T>
T random_value(const detail::Context& ctx);

template <Struct S>
void randomize(S& s, const detail::Context& ctx) {
  detail::for_each_field<S>([&](const auto& f) {
    if (!f.present(ctx.version, ctx.flexible)) return true;
    using M = typename std::decay_t<decltype(f)>::Member;
    M& m = s.*(f.member);
    if constexpr (detail::kIsOptional<M>) {
      if (f.nullable.contains(ctx.version) && uniform(0, 4) == 0) {
        m.reset();
      } else {
        m = random_value<typename M::value_type>(ctx);
      }
    } else {
      m = random_value<M>(ctx);
    }
    return true;
  });
}

template <typename T>
T random_value(const detail::Context& ctx) {
  if constexpr (std::is_integral_v<T>) {
    return *rc::gen::arbitrary<T>();
  } else if constexpr (std::is_same_v<T, double>) {
    return static_cast<double>(*rc::gen::arbitrary<int32_t>()) / 8;  // finite: NaN != NaN
  } else if constexpr (std::is_same_v<T, Uuid>) {
    return Uuid{*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>()};
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Bytes>) {
    size_t n = uniform<size_t>(0, 9);
    return *rc::gen::container<T>(n, rc::gen::arbitrary<typename T::value_type>());
  } else if constexpr (detail::kIsArray<T>) {
    T v;
    size_t n = uniform<size_t>(0, 4);
    for (size_t i = 0; i < n; ++i) v.push_back(random_value<typename T::value_type>(ctx));
    return v;
  } else {
    T s{};
    randomize(s, ctx);
    return s;
  }
}

template <Message T>
T random_message(int16_t version) {
  T msg{};
  randomize(msg, detail::Context{version, is_flexible<T>(version)});
  return msg;
}

// gtest's name generator for typed suites over messages: the message's Kafka name.
struct MessageName {
  template <typename T>
  static std::string GetName(int) {
    return std::string(T::message_name);
  }
};

// Runs `property(version)` as a RapidCheck property at every version of message T, reporting a
// failure as a gtest failure named after the message, version and `what`.
template <typename T, typename P>
void check_every_version(std::string_view what, P property) {
  for (int16_t v = 0; v <= T::max_version; ++v) {
    rc::detail::TestParams params = rc::detail::configuration().testParams;
    params.maxSuccess = 60;
    rc::detail::TestMetadata metadata;
    metadata.id = fmt::format("{} v{} {}", T::message_name, v, what);
    metadata.description = metadata.id;
    auto result = rc::detail::checkTestable([&] { property(v); }, metadata, params);
    if (!result.template is<rc::detail::SuccessResult>()) {
      std::ostringstream os;
      rc::detail::printResultMessage(result, os);
      ADD_FAILURE() << metadata.id << ":\n" << os.str();
    }
  }
}

// Golden bytes written as hex digits, spaces and '|' ignored ("0001 | 00000007").
inline Bytes hex(std::string_view h) {
  Bytes out;
  std::string digits;
  for (char c : h)
    if (c != ' ' && c != '|') digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

// Body golden: msg encodes to exactly `want`, `want` decodes back to msg, and every strict
// prefix of it is corrupt.
template <typename T>
void expect_body_bytes(const T& msg, int16_t version, const Bytes& want) {
  Result<Bytes> got = encode_to_bytes(msg, version);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(want)) << T::message_name << " v" << version;
  Result<T> back = decode<T>(want, version);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == msg) << T::message_name << " v" << version;
  for (size_t n = 0; n < want.size(); ++n)
    EXPECT_EQ(decode<T>(ByteView(want).first(n), version).code(), Errc::corrupt) << n;
}

}  // namespace gregor::kafka::testing
