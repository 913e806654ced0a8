// Config tables of a scenario: [cluster.config] (broker keys) and a topic's `config` (topic
// keys). Both are checked by the broker's own parsers, so a scenario accepts exactly what the
// broker would, and each error is moved to the line of the scenario key it is about.
#include <fmt/format.h>

#include <algorithm>

#include "node/broker/topic_config.h"
#include "sim/scenario/scenario_toml.h"
#include "sim/scenario/scenario_toml_internal.h"

namespace gregor::scenario::internal {

namespace {

// Broker keys the runner sets per process (identity, storage, addresses, the quorum layout).
const std::vector<std::string_view> kRunnerOwnedBrokerKeys = {
    "node.id",       "broker.id",
    "log.dir",       "log.dirs",
    "listeners",     "advertised.listeners",
    "process.roles", "controller.quorum.voters",
};

// The source name under which the scenario's broker keys are handed to the broker's parser; its
// messages are then moved back to the scenario file's lines.
constexpr std::string_view kConfigSource = "<cluster.config>";

using Flat = std::vector<std::pair<std::string, const toml::node*>>;

// Dotted names of a config table in document order: a non-empty table is a level of the name
// (`log.flush.interval.messages = 1` and `"log.flush.interval.messages" = 1` are one key), as in
// the broker's own parser.
void flatten(const toml::table& table, const std::string& prefix, Flat& out) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const toml::table* sub = node.as_table();
    if (sub != nullptr && !sub->empty()) {
      flatten(*sub, key, out);
    } else {
      out.emplace_back(std::move(key), &node);
    }
  }
}

Flat flatten_in_order(const toml::table& table) {
  Flat flat;
  flatten(table, "", flat);
  auto position = [](const auto& e) {
    const toml::source_position& p = e.second->source().begin;
    return std::pair(p.line, p.column);
  };
  std::stable_sort(flat.begin(), flat.end(),
                   [&](const auto& a, const auto& b) { return position(a) < position(b); });
  return flat;
}

// A config value: a string, an integer or a boolean (Kafka's config values are all of these).
bool is_config_scalar(const toml::node& node) {
  return node.is_string() || node.is_integer() || node.is_boolean();
}

std::string config_text(const toml::node& node) {
  if (node.is_string()) return std::string(node.as_string()->get());
  if (node.is_integer()) return fmt::format("{}", node.as_integer()->get());
  return node.as_boolean()->get() ? "true" : "false";
}

// The broker's "<cluster.config>:N: key 'K': why" names line N of the text built above, which is
// the N-th key of `flat`.
Status broker_config_error(const Table& config, const std::string& message, const Flat& flat) {
  std::string_view m = message;
  std::string_view prefix = kConfigSource;
  if (m.substr(0, prefix.size()) == prefix) m.remove_prefix(prefix.size());
  size_t n = 0, i = 1;
  for (; i < m.size() && m[0] == ':' && m[i] >= '0' && m[i] <= '9'; ++i) n = n * 10 + (m[i] - '0');
  std::string_view rest = m.substr(std::min(i, m.size()));
  std::string_view key_intro = ": key '";
  if (n == 0 || n > flat.size() || rest.substr(0, key_intro.size()) != key_intro ||
      rest.find("': ") == std::string_view::npos) {
    // Not about one key (the log defaults as a whole): at the table.
    while (!m.empty() && (m.front() == ':' || m.front() == ' ')) m.remove_prefix(1);
    return config.error_here(fmt::format("broker config: {}", m));
  }
  const auto& [key, node] = flat[n - 1];
  std::string_view why = rest.substr(rest.find("': ") + 3);
  std::string extra;
  if (why == "unknown key") extra = suggestion(key, broker::broker_config_keys());
  return config.cx().at(*node, config.path_of(key), fmt::format("{}{}", why, extra));
}

}  // namespace

// Each key is checked here for what the scenario owns (runner keys, duplicates, scalar type) and
// then all of them together by the broker's own parser, whose message is moved to the key's line.
Status read_broker_config(const Table& config, Scenario& s, broker::BrokerConfig& parsed_out) {
  Flat flat = flatten_in_order(config.toml());
  std::string text;
  for (const auto& [key, node] : flat) {
    std::string path = config.path_of(key);
    if (std::find(kRunnerOwnedBrokerKeys.begin(), kRunnerOwnedBrokerKeys.end(), key) !=
        kRunnerOwnedBrokerKeys.end()) {
      return config.cx().at(*node, path,
                            "set by the runner for each broker; a scenario cannot set it");
    }
    if (!is_config_scalar(*node)) {
      return config.cx().at(*node, path,
                            fmt::format("expected a string, an integer or a boolean, got {}",
                                        internal::toml_type_name(node->type())));
    }
    for (const auto& [other, other_node] : flat) {
      if (other_node == node) break;
      if (other == key) {
        return config.cx().at(*node, path,
                              fmt::format("given twice (first on line {})", line_of(*other_node)));
      }
    }
    std::string literal = node->is_string() ? toml_quote(config_text(*node)) : config_text(*node);
    text += fmt::format("{} = {}\n", toml_quote(key), literal);
    s.broker_config.emplace_back(key, std::move(literal));
  }
  // With a quorum the runner gives each broker its voters; checked here with a stand-in set, so
  // that keys that need a quorum (default.replication.factor > 1) are judged as they will run.
  // It goes last: a line number in an error still points into the scenario's keys.
  if (s.controllers > 0) text += "\"controller.quorum.voters\" = \"0@quorum.invalid:1\"\n";
  auto parsed = broker::parse_broker_config(text, kConfigSource);
  if (!parsed.ok()) return broker_config_error(config, parsed.status().message(), flat);
  parsed_out = *parsed;
  parsed_out.quorum_voters.clear();
  return Status::Ok();
}

// Topic configs are Kafka's strings; integers and booleans are accepted and kept as their text.
// Each key alone, then all together, go through the broker's apply_topic_configs.
Status read_topic_config(const Table& config, const broker::BrokerConfig& defaults,
                         TopicSpec& topic) {
  broker::ConfigOverrides all;
  std::vector<std::string_view> known = broker::topic_config_keys();
  for (const auto& [key, node] : flatten_in_order(config.toml())) {
    std::string path = config.path_of(key);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return config.cx().at(*node, path, "unknown topic config" + suggestion(key, known));
    }
    if (!is_config_scalar(*node)) {
      return config.cx().at(*node, path,
                            fmt::format("expected a string, an integer or a boolean, got {}",
                                        internal::toml_type_name(node->type())));
    }
    if (topic.config.count(key) != 0) return config.cx().at(*node, path, "given twice");
    std::string text = config_text(*node);
    auto one = broker::apply_topic_configs(defaults, {{key, text}});
    if (!one.ok()) {
      // "topic config 'KEY': why" without the key, which the path names already.
      std::string why = one.status().message();
      size_t colon = why.find("': ");
      return config.cx().at(*node, path, colon == std::string::npos ? why : why.substr(colon + 3));
    }
    all.emplace_back(key, text);
    topic.config.emplace(key, std::move(text));
  }
  auto together = broker::apply_topic_configs(defaults, all);
  if (!together.ok()) return config.error_here(together.status().message());
  return Status::Ok();
}

}  // namespace gregor::scenario::internal
