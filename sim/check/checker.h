// The history checker: reads a history (docs/history-format.md) line by line and reports every
// violation of the kinds in that document's table, with the smallest evidence for each.
//
// Contract:
//  - Streaming: add_line takes one line at a time and keeps no lines, only per-record state
//    (each distinct value once, where it was seen, its acknowledgement), per-partition read
//    gaps and final reads, per-replica marks and the open operations. Memory grows with the
//    number of distinct records, not with the number of lines; time is linear in the history
//    (plus a sort per partition in finish()).
//  - add_line returns a non-ok Status (invalid_argument, "line N: ...") for a malformed line of
//    a kind the checker reads: bad JSON, a missing field, a field of the wrong type, an op.ok
//    lacking what its function's invoke needs. The checker's state is then as if the line had
//    not been given (but for the line count); the caller may stop or go on. Lines of other
//    kinds are skipped unparsed.
//  - finish() closes what is still open (operations never closed count as unknown), runs the
//    checks that need the whole history (lost writes, skips, send order, replica logs) and
//    returns the result. The Checker then starts over, empty, with the same options.
//  - Each violation kind keeps at most CheckOptions::violations_per_kind_max violations in the
//    list (the first found); CheckResult::counts are exact.
// What each kind means precisely, and what is deliberately not a violation (a send acked below
// a final read's log start, an ack after a final read began, reads across a seek), is in
// sim/check/README.md.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sim/check/history.h"

namespace gregor::check {

// The violation kinds of docs/history-format.md, in the order of its table (and of reports).
inline constexpr std::array<std::string_view, 12> kViolationKinds = {
    "lost-write",
    "duplicate",
    "inconsistent-offsets",
    "poll-skip",
    "nonmonotonic-poll",
    "nonmonotonic-send",
    "committed-offset-regress",
    "leader-conflict",
    "epoch-regress",
    "hw-regress",
    "replica-divergence",
    "replicas-differ-after-heal",
};

inline constexpr size_t kViolationsPerKindMax = 20;  // default cap of the list, per kind

struct CheckOptions {
  size_t violations_per_kind_max = kViolationsPerKindMax;
};

struct Violation {
  std::string kind;      // one of kViolationKinds
  std::string text;      // one line for people
  std::string evidence;  // a JSON object: values, offsets, times (t), processes, op numbers
};

struct CheckStats {
  uint64_t lines = 0;          // every line given, blank and skipped ones too
  uint64_t lines_checked = 0;  // lines of the kinds the checker reads
  uint64_t ops_invoked = 0;
  uint64_t ops_ok = 0;
  uint64_t ops_fail = 0;
  uint64_t ops_unknown = 0;    // op.unknown, plus operations never closed
  uint64_t ops_unmatched = 0;  // closing lines of operations never invoked (ignored)
  uint64_t sends_acked = 0;
  uint64_t records_polled = 0;      // records returned by polls (every read, repeats too)
  uint64_t records_final_read = 0;  // records returned by final reads
  uint64_t records_distinct = 0;    // distinct values acked or read
  uint64_t records_lost = 0;        // distinct acked records with a lost-write violation
};

struct CheckResult {
  Mode mode = Mode::safety;
  std::vector<Violation> violations;  // grouped by kind in kViolationKinds order
  std::array<uint64_t, kViolationKinds.size()> counts{};  // exact, indexed like kViolationKinds
  CheckStats stats;

  bool pass() const { return total() == 0; }
  uint64_t total() const;
  uint64_t count(std::string_view kind) const;  // 0 for a name not in kViolationKinds
};

class Checker {
 public:
  explicit Checker(CheckOptions options = {});
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  // One line of the history (without its newline). See the contract above.
  Status add_line(std::string_view line);
  // An already parsed event, counted as the next line. Errors as for add_line (an op.ok lacking
  // what its invoke's function needs).
  Status add(const Event& event);

  CheckResult finish();

  struct State;  // sim/check/checker_state.h

 private:
  std::unique_ptr<State> state_;
};

// Checks a whole stream, line by line: the first malformed line's error ("line N: ...") or
// io_error when reading fails.
Result<CheckResult> check_history(std::istream& in, CheckOptions options = {});
// Checks a whole file: as check_history with the errors prefixed by "PATH: ", and not_found /
// io_error ("cannot open PATH: ...") when it cannot be opened or is a directory.
Result<CheckResult> check_history_file(const std::string& path, CheckOptions options = {});

// The result for a terminal: a few stat lines, the counts of the kinds found, then each listed
// violation's text (and how many were left out of the list).
std::string to_text(const CheckResult& result);
// The result as one JSON object on one line: {"verdict":"pass"|"fail","mode",
// "violations":[{"kind","text","evidence":{...}}],"counts":{kind:n for every kind},"stats":{...}}.
std::string to_json(const CheckResult& result);

}  // namespace gregor::check
