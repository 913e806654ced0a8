// Proves Status/Result carry typed codes and messages, and that misuse of a failed Result (taking
// its value) is an assertion, i.e. a programming error that stops the process.
#include "base/status.h"

#include <gtest/gtest.h>

#include "base/time.h"

namespace gregor {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return errorf(Errc::invalid_argument, "{} is not positive", v);
  return v;
}

Status chain(int v) {
  GREGOR_RETURN_IF_ERROR(parse_positive(v).status());
  return Status::Ok();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = error(Errc::no_space, "quota 10 bytes");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::no_space);
  EXPECT_EQ(s.to_string(), "no_space: quota 10 bytes");
  EXPECT_EQ(fmt::format("{}", s), "no_space: quota 10 bytes");
}

TEST(Status, ResultCarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Errc::invalid_argument);
  EXPECT_EQ(chain(-1).code(), Errc::invalid_argument);
  EXPECT_TRUE(chain(1).ok());
}

TEST(StatusDeathTest, ValueOfFailedResultAsserts) {
  auto bad = parse_positive(0);
  EXPECT_DEATH((void)bad.value(), "value\\(\\) of failed Result");
}

TEST(StatusDeathTest, AssertionsStayOnInReleaseBuilds) {
  EXPECT_DEATH(GREGOR_ASSERT(1 + 1 == 3, "math is {}", "broken"), "math is broken");
}

TEST(Time, FormatsDurations) {
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.500s");
  EXPECT_EQ(format_duration(microseconds(2500)), "2.500ms");
  EXPECT_EQ(format_duration(nanoseconds(12)), "12ns");
}

}  // namespace
}  // namespace gregor
