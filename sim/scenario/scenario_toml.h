// Scenario files: TOML text <-> Scenario. The format is documented key by key in
// scenarios/README.md; in short:
//
//   name = "smoke"                    # default: the file's stem
//   duration = "20s"                  # durations are strings: "250ms", "1.5s", "2m", "1h30m"
//   [cluster]                         # brokers, controllers, bugs = {...}, [cluster.config]
//   [[topic]]  [[producer]]  [[consumer]]  [[fault]]  [nemesis]
//
// parse_scenario checks everything a run would trip over later: every key is known (unknown keys
// are named with the nearest known one), every value has its TOML type and range, faults carry
// exactly the fields their kind uses, every node a fault names exists, workload topics are
// declared, broker and topic config keys pass the broker's own parsers. Each error is an
// Errc::invalid_argument "FILE:LINE: key 'PATH': what is wrong" (PATH like "producer[2].acks",
// 1-based), "FILE:LINE: what is wrong" when no single key is at fault, or "FILE:LINE:COL: ..." for
// TOML syntax. It never throws and never asserts on any input.
//
// scenario_to_toml writes a readable file (defaults left out where the reader can infer them)
// with the contract: parse_scenario(scenario_to_toml(s), f) == s for every s that parse_scenario
// returned (the shrinker writes its minimal scenarios this way). Strings must be UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario {

// Named limits of the file format (scenario.h holds the limits of the run itself).
inline constexpr size_t kScenarioTextBytesMax = 1 << 20;
inline constexpr size_t kTopicsMax = 100;
inline constexpr size_t kWorkloadsMax = 64;    // [[producer]] and [[consumer]] tables together
inline constexpr size_t kNameBytesMax = 249;   // Kafka's topic name limit; also workload names
inline constexpr uint32_t kKeysMax = 1000000;  // producer `keys`
inline constexpr uint32_t kMaxInFlightMax = 1000;
inline constexpr uint32_t kIdempotentInFlightMax = 5;  // Kafka's bound for an idempotent producer
inline constexpr int64_t kClockDriftPpmMax = 100000;   // 10%
inline constexpr Duration kClockJumpMax = hours(24 * 366);

// Parses and checks a scenario file's text; file_name appears in messages and its stem (the base
// name without ".toml") is the default `name`. Text over kScenarioTextBytesMax is refused.
Result<Scenario> parse_scenario(std::string_view text, std::string_view file_name);

// The scenario as a TOML file (see the contract above).
std::string scenario_to_toml(const Scenario& s);

// Duration text of scenario files: an optional sign, then one or more NUMBER UNIT parts with
// UNIT one of ns, us, ms, s, m, h and NUMBER digits with an optional fraction ("1.5s", "1m30s",
// "+30s", "-2s"). The value must be a whole number of nanoseconds. Errors carry no location.
Result<Duration> parse_duration_text(std::string_view text);
// The exact, shortest readable form: "0s", "250ms", "1.5s", "90s", "2m", "1h", "-30s", "1.000001s".
// parse_duration_text(format_duration_toml(d)) == d for every d.
std::string format_duration_toml(Duration d);

// The scenario's [cluster.config] keys as a broker config file (one "KEY" = VALUE line each, in
// file order), ready for broker::parse_broker_config; the runner appends node.id, log.dirs and
// listeners per broker (a scenario may not set those).
std::string broker_config_toml(const Scenario& s);

// A string as a TOML basic string, quotes included ("a\"b" for a"b).
std::string toml_quote(std::string_view s);

}  // namespace gregor::scenario
