// Test helpers for sim/check: a builder of history lines in the exact shapes of
// docs/history-format.md (topic "t" unless told), and a one-call check of the lines.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/check/checker.h"

namespace gregor::check::testing {

struct Rec {  // a record as a read returns it, in topic "t"
  int32_t partition;
  int64_t offset;
  std::string value;
};

struct Pos {  // a seek position or a commit offset, in topic "t"
  int32_t partition;
  int64_t offset;
};

inline std::string quote(const std::string& s) {
  return fmt::format("\"{}\"", s);
}

class History {
 public:
  std::vector<std::string> lines;
  int64_t t = 0;

  History& raw(std::string line) {
    lines.push_back(std::move(line));
    return *this;
  }
  // One line: {"t":..,"n":node,"k":kind,<fields>}.
  History& line(const std::string& node, const std::string& kind, const std::string& fields) {
    t += 10;
    return raw(fmt::format(R"({{"t":{},"n":"{}","k":"{}"{}{}}})", t, node, kind,
                           fields.empty() ? "" : ",", fields));
  }
  History& run(const std::string& mode) {
    return line("world", "run.start", R"("mode":")" + mode + "\"");
  }
  History& start(const std::string& node) { return line(node, "proc.start", R"("incarnation":1)"); }

  History& send_invoke(const std::string& p, uint64_t op, const std::string& value,
                       bool ordered = true) {
    return line(
        p, "op.invoke",
        fmt::format(R"("op":{},"f":"send","topic":"t","key":null,"value":"{}","ordered":{})", op,
                    value, ordered));
  }
  History& send_ok(const std::string& p, uint64_t op, int32_t partition, int64_t offset) {
    return line(
        p, "op.ok",
        fmt::format(R"("op":{},"f":"send","partition":{},"offset":{})", op, partition, offset));
  }
  History& close(const std::string& p, uint64_t op, const std::string& how) {
    return line(p, "op." + how, fmt::format(R"("op":{},"error":"timed out")", op));
  }
  // An acknowledged send: invoke then ok.
  History& send(const std::string& p, uint64_t op, const std::string& value, int32_t partition,
                int64_t offset, bool ordered = true) {
    return send_invoke(p, op, value, ordered).send_ok(p, op, partition, offset);
  }
  History& poll(const std::string& c, uint64_t op, const std::vector<Rec>& records) {
    line(c, "op.invoke", fmt::format(R"("op":{},"f":"poll")", op));
    return line(c, "op.ok", fmt::format(R"("op":{},"f":"poll","records":{})", op, recs(records)));
  }
  History& seek(const std::string& c, uint64_t op, const std::vector<Pos>& positions) {
    line(c, "op.invoke", fmt::format(R"("op":{},"f":"seek")", op));
    return line(c, "op.ok",
                fmt::format(R"("op":{},"f":"seek","positions":{})", op, offsets(positions)));
  }
  History& commit(const std::string& c, uint64_t op, const std::string& group,
                  const std::vector<Pos>& committed) {
    line(c, "op.invoke", fmt::format(R"("op":{},"f":"commit","group":"{}")", op, group));
    return line(c, "op.ok",
                fmt::format(R"("op":{},"f":"commit","group":"{}","offsets":{})", op, group,
                            offsets(committed)));
  }
  History& final_invoke(const std::string& c, uint64_t op, int32_t partition) {
    return line(
        c, "op.invoke",
        fmt::format(R"("op":{},"f":"final_read","topic":"t","partition":{})", op, partition));
  }
  History& final_ok(const std::string& c, uint64_t op, int64_t from, int64_t to,
                    const std::vector<Rec>& records) {
    return line(c, "op.ok",
                fmt::format(R"("op":{},"f":"final_read","from":{},"to":{},"records":{})", op, from,
                            to, recs(records)));
  }
  History& final_read(const std::string& c, uint64_t op, int32_t partition, int64_t from,
                      int64_t to, const std::vector<Rec>& records) {
    return final_invoke(c, op, partition).final_ok(c, op, from, to, records);
  }
  History& state(const std::string& node, int32_t partition, const std::string& role, int64_t epoch,
                 int64_t hw, int64_t leo = -1) {
    return line(node, "replica.state",
                fmt::format(R"("topic":"t","partition":{},"role":"{}","epoch":{},"leo":{},)"
                            R"("hw":{},"log_start":0,"isr":[1,2,3])",
                            partition, role, epoch, leo < 0 ? hw : leo, hw));
  }
  // batches: {base, last, crc}
  History& replica_log(const std::string& node, int32_t partition, int64_t leo, int64_t hw,
                       int64_t log_start, const std::vector<std::vector<int64_t>>& batches) {
    std::string b = "[";
    for (size_t i = 0; i < batches.size(); ++i)
      b += fmt::format("{}[{},{},{}]", i ? "," : "", batches[i][0], batches[i][1], batches[i][2]);
    b += "]";
    return line(node, "replica.log",
                fmt::format(R"("topic":"t","partition":{},"leo":{},"hw":{},"log_start":{},)"
                            R"("batches":{})",
                            partition, leo, hw, log_start, b));
  }

  static std::string recs(const std::vector<Rec>& records) {
    std::string s = "[";
    for (size_t i = 0; i < records.size(); ++i)
      s += fmt::format(R"({}["t",{},{},"{}"])", i ? "," : "", records[i].partition,
                       records[i].offset, records[i].value);
    return s + "]";
  }
  static std::string offsets(const std::vector<Pos>& positions) {
    std::string s = "[";
    for (size_t i = 0; i < positions.size(); ++i)
      s += fmt::format(R"({}["t",{},{}])", i ? "," : "", positions[i].partition,
                       positions[i].offset);
    return s + "]";
  }
};

// Checks every line (each must be accepted) and finishes.
inline CheckResult check(const std::vector<std::string>& lines, CheckOptions options = {}) {
  Checker checker(options);
  for (size_t i = 0; i < lines.size(); ++i) {
    Status s = checker.add_line(lines[i]);
    EXPECT_TRUE(s.ok()) << s << "\n  line: " << lines[i];
  }
  return checker.finish();
}
inline CheckResult check(const History& h, CheckOptions options = {}) {
  return check(h.lines, options);
}

}  // namespace gregor::check::testing
