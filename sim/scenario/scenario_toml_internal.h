// Internals of the scenario file parser, shared by scenario_toml*.cc: error messages with file and
// line, a checked view of one TOML table, and the nodes a fault may name. Not an API.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "node/broker/broker_config.h"
#include "node/broker/toml_names.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario::internal {

// The line a TOML value starts on (at least 1).
uint32_t line_of(const toml::node& node);
using broker::toml_type_name;  // "a string", "an integer", ... (node/broker/toml_names.h)

// " (did you mean 'X'?)" for the known word nearest to `word` by edit distance when it is near
// enough to be a typo; "" otherwise.
std::string suggestion(std::string_view word, const std::vector<std::string_view>& known,
                       char quote = '\'');

// "a.b" for key b of table a; a key with dots in it is quoted ("cluster.config.\"log.dirs\"").
std::string join_path(std::string_view path, std::string_view key);

// Messages: "FILE:LINE: key 'PATH': why" and "FILE:LINE: why".
class Ctx {
 public:
  explicit Ctx(std::string file) : file_(std::move(file)) {}
  Status at_key(uint32_t line, std::string_view path, std::string_view why) const;
  Status at_line(uint32_t line, std::string_view why) const;
  Status at(const toml::node& node, std::string_view path, std::string_view why) const {
    return at_key(line_of(node), path, why);
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

// One TOML table of the scenario with its path ("" for the root, "producer[2]"). Readers leave
// `out` untouched when the key is absent, so callers preset defaults.
class Table {
 public:
  Table(const Ctx& cx, const toml::table& table, std::string path)
      : cx_(cx), table_(table), path_(std::move(path)) {}

  const Ctx& cx() const { return cx_; }
  const toml::table& toml() const { return table_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  uint32_t line() const { return line_of(table_); }
  const toml::node* find(std::string_view key) const { return table_.get(key); }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The keys with their values in document order.
  std::vector<std::pair<std::string_view, const toml::node*>> entries() const;

  // The first key (in document order) outside `known`, as an "unknown key" error.
  Status check_keys(const std::vector<std::string_view>& known) const;
  // An error about `key`, at its line (at the table's line when the key is absent).
  Status error(std::string_view key, std::string_view why) const;
  // An error about the table as a whole: "FILE:LINE: PATH: why".
  Status error_here(std::string_view why) const;

  Status read(std::string_view key, std::string& out) const;
  Status read(std::string_view key, bool& out) const;
  Status read_int(std::string_view key, int64_t min, int64_t max, int64_t& out) const;
  template <typename T>
  Status read_int(std::string_view key, int64_t min, int64_t max, T& out) const {
    int64_t v = static_cast<int64_t>(out);
    GREGOR_RETURN_IF_ERROR(read_int(key, min, max, v));
    out = static_cast<T>(v);
    return Status::Ok();
  }
  Status read_number(std::string_view key, double min, double max, double& out) const;
  // A duration string in [min, max].
  Status read_duration(std::string_view key, Duration min, Duration max, Duration& out) const;
  template <typename E>
  Status read_enum(std::string_view key, std::initializer_list<Named<E>> names, E& out) const {
    std::string text;
    if (!has(key)) return Status::Ok();
    GREGOR_RETURN_IF_ERROR(read(key, text));
    std::vector<std::string_view> known;
    for (const Named<E>& n : names) {
      if (n.name == text) {
        out = n.value;
        return Status::Ok();
      }
      known.push_back(n.name);
    }
    return error(key, enum_message(text, known));
  }
  // Present: must be a table (an array); absent: nullptr.
  Status read_table(std::string_view key, const toml::table*& out) const;
  Status read_array(std::string_view key, const toml::array*& out) const;

 private:
  static std::string enum_message(std::string_view text, const std::vector<std::string_view>& ok);
  Status type_error(std::string_view key, std::string_view expected) const;

  const Ctx& cx_;
  const toml::table& table_;
  std::string path_;
};

// The table's durations as text for messages ("2m").
std::string show(Duration d);

// What a NodeRef may name: brokers 1..brokers, leaders of declared partitions, client processes,
// dedicated controllers 1..controllers and the active controller (with a quorum).
struct Universe {
  uint32_t brokers = 1;
  uint32_t controllers = 0;
  bool dedicated_controllers = false;
  std::map<std::string, int32_t, std::less<>> topics;  // name -> partitions
  std::set<std::string, std::less<>> clients;          // "producer-1", ...
};

// [cluster.config] into s.broker_config (each value as its TOML literal text), checked by
// broker::parse_broker_config, whose result goes to `parsed` (scenario_toml_config.cc).
Status read_broker_config(const Table& config, Scenario& s, broker::BrokerConfig& parsed);
// A topic's `config` table into topic.config, checked by broker::apply_topic_configs on top of
// the scenario's broker config.
Status read_topic_config(const Table& config, const broker::BrokerConfig& defaults,
                         TopicSpec& topic);

// [[fault]] tables into s.timeline (scenario_toml_faults.cc).
Status read_faults(const Table& root, const Universe& universe, Scenario& s);
// The [nemesis] table into s.nemesis.
Status read_nemesis(const Table& root, Scenario& s);

}  // namespace gregor::scenario::internal
