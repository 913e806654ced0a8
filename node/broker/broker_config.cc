#include "node/broker/broker_config.h"
#include "node/broker/toml_names.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>
#include <type_traits>

#include "base/assert.h"

namespace gregor::broker {

namespace {

constexpr int64_t kInt16Max = INT16_MAX;
constexpr int64_t kMsPerMinute = 60 * 1000;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

Status invalid(std::string message) {
  return error(Errc::invalid_argument, std::move(message));
}

// Splits on ',' keeping empty items, so "a,,b" can be refused.
std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> items;
  for (;;) {
    size_t comma = s.find(',');
    items.push_back(trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) return items;
    s.remove_prefix(comma + 1);
  }
}

// ASCII only, whatever the process locale (<cctype> follows it).
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_hostname_char(char c) {
  bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return letter || is_digit(c) || c == '-' || c == '.' || c == '_';
}

// Hex digits, ':' and '.' (an embedded IPv4), at least one ':', then maybe "%zone" (an interface
// name, as in fe80::1%eth0).
bool is_ipv6_literal(std::string_view s) {
  size_t percent = s.find('%');
  std::string_view address = s.substr(0, percent);
  std::string_view zone = percent == std::string_view::npos ? "" : s.substr(percent + 1);
  auto address_char = [](char c) { return is_hex_digit(c) || c == ':' || c == '.'; };
  if (address.find(':') == std::string_view::npos) return false;
  if (!std::all_of(address.begin(), address.end(), address_char)) return false;
  if (percent != std::string_view::npos && zone.empty()) return false;
  return std::all_of(zone.begin(), zone.end(), is_hostname_char);
}

// Splits "HOST:PORT" or "[V6]:PORT" into host and port text.
Status split_host_port(std::string_view rest, std::string_view& host, std::string_view& port) {
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return invalid("'[' without ']' around an IPv6 address");
    host = rest.substr(1, close - 1);
    if (!is_ipv6_literal(host)) return invalid(fmt::format("bad IPv6 address '{}'", host));
    rest.remove_prefix(close + 1);
    if (rest.empty() || rest.front() != ':') return invalid("missing port (expected ]:PORT)");
    port = rest.substr(1);
    return Status::Ok();
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return invalid("missing port (expected HOST:PORT)");
  host = rest.substr(0, colon);
  port = rest.substr(colon + 1);
  if (host.find(':') != std::string_view::npos) {
    return invalid(fmt::format("IPv6 address '{}' must be in brackets: [{}]:PORT", host, host));
  }
  if (!std::all_of(host.begin(), host.end(), is_hostname_char)) {
    return invalid(fmt::format("bad host '{}'", host));
  }
  return Status::Ok();
}

}  // namespace

// ---- Value spellings -------------------------------------------------------------------------

Result<int64_t> parse_config_int(std::string_view text, int64_t min, int64_t max) {
  std::string_view t = trim(text);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || (ec != std::errc() && ec != std::errc::result_out_of_range) ||
      end != t.data() + t.size()) {
    return invalid(fmt::format("'{}' is not an integer", text));
  }
  if (ec == std::errc::result_out_of_range || v < min || v > max) {
    return invalid(fmt::format("{} is outside [{}, {}]", t, min, max));
  }
  return v;
}

Result<CleanupPolicy> parse_cleanup_policy(std::string_view text) {
  CleanupPolicy p{false, false};
  for (std::string_view item : split_list(text)) {
    if (item == "delete") {
      p.cleanup_delete = true;
    } else if (item == "compact") {
      p.cleanup_compact = true;
    } else {
      return invalid(fmt::format("'{}' is not delete, compact or compact,delete", text));
    }
  }
  return p;
}

std::string cleanup_policy_string(bool cleanup_delete, bool cleanup_compact) {
  if (cleanup_delete && cleanup_compact) return "compact,delete";
  return cleanup_compact ? "compact" : "delete";
}

Result<log::TimestampType> parse_timestamp_type(std::string_view text) {
  std::string_view t = trim(text);
  if (t == "CreateTime") return log::TimestampType::create_time;
  if (t == "LogAppendTime") return log::TimestampType::log_append_time;
  return invalid(fmt::format("'{}' is not CreateTime or LogAppendTime", text));
}

std::string_view timestamp_type_string(log::TimestampType type) {
  return type == log::TimestampType::log_append_time ? "LogAppendTime" : "CreateTime";
}

Duration ms_to_duration(int64_t ms) {
  constexpr int64_t kMaxMs = Duration::max().count() / 1000000;
  if (ms >= kMaxMs) return Duration::max();
  if (ms <= -kMaxMs) return Duration::min();
  return milliseconds(ms);
}

int64_t duration_to_ms(Duration d) {
  return d == Duration::max() ? kConfigInt64Max : to_ms(d);
}

// ---- Listeners -------------------------------------------------------------------------------

std::string Listener::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("PLAINTEXT://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Result<Listener> parse_listener(std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty()) return invalid("no listener given");
  if (t.find(',') != std::string_view::npos) {
    return invalid("more than one listener; Gregor supports exactly one for now");
  }
  size_t sep = t.find("://");
  if (sep == std::string_view::npos) {
    return invalid(fmt::format("'{}' is not PROTOCOL://HOST:PORT", t));
  }
  std::string scheme(t.substr(0, sep));
  for (char& c : scheme) c = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  if (scheme != "PLAINTEXT") {
    return invalid(
        fmt::format("security protocol '{}' is not supported (only PLAINTEXT)", t.substr(0, sep)));
  }
  std::string_view host, port;
  GREGOR_RETURN_IF_ERROR(split_host_port(t.substr(sep + 3), host, port));
  if (port.empty()) return invalid("missing port");
  bool digits = std::all_of(port.begin(), port.end(), is_digit);
  auto number = parse_config_int(port, 0, 65535);
  if (!digits || !number.ok()) return invalid(fmt::format("bad port '{}' (0..65535)", port));
  return Listener{std::string(host), static_cast<uint16_t>(*number)};
}

Result<std::vector<QuorumVoter>> parse_quorum_voters(std::string_view text) {
  std::vector<QuorumVoter> voters;
  for (std::string_view item : split_list(text)) {
    auto bad = [&](std::string_view why) {
      return invalid(fmt::format("voter '{}': {} (expected ID@HOST:PORT)", item, why));
    };
    size_t at = item.find('@');
    if (at == std::string_view::npos) return bad("no '@'");
    auto id = parse_config_int(item.substr(0, at), 0, kConfigInt32Max);
    if (!id.ok() || !std::all_of(item.begin(), item.begin() + static_cast<ptrdiff_t>(at), is_digit))
      return bad("the id is not a number in [0, 2147483647]");
    std::string_view host, port;
    Status st = split_host_port(item.substr(at + 1), host, port);
    if (!st.ok()) return bad(st.message());
    if (host.empty()) return bad("no host");
    auto number = parse_config_int(port, 1, 65535);
    if (!number.ok() || !std::all_of(port.begin(), port.end(), is_digit))
      return bad(fmt::format("bad port '{}' (1..65535)", port));
    for (const QuorumVoter& v : voters) {
      if (v.id == *id) return bad(fmt::format("id {} given twice", *id));
    }
    voters.push_back(
        QuorumVoter{static_cast<int32_t>(*id), std::string(host), static_cast<uint16_t>(*number)});
  }
  if (voters.size() != 1 && voters.size() != 3 && voters.size() != 5) {
    return invalid(fmt::format("{} voters: Gregor's quorum has a static set of 1, 3 or 5 voters",
                               voters.size()));
  }
  return voters;
}

std::string quorum_voters_string(const std::vector<QuorumVoter>& voters) {
  std::string out;
  for (const QuorumVoter& v : voters) {
    if (!out.empty()) out += ",";
    bool v6 = v.host.find(':') != std::string::npos;
    out += fmt::format("{}@{}{}{}:{}", v.id, v6 ? "[" : "", v.host, v6 ? "]" : "", v.port);
  }
  return out;
}

bool BrokerConfig::is_voter() const {
  return std::any_of(quorum_voters.begin(), quorum_voters.end(),
                     [&](const QuorumVoter& v) { return v.id == node_id; });
}

// ---- The key table ---------------------------------------------------------------------------

namespace {

enum class Kind : uint8_t { integer, boolean, string };

// One key's value after its TOML type and range were checked, and where it was written.
struct Setting {
  std::string key;
  uint32_t line = 0;
  int64_t integer = 0;
  bool boolean = false;
  std::string text;
};

using Setter = void (*)(BrokerConfig&, const Setting&);

template <auto Member>
void set_int(BrokerConfig& c, const Setting& s) {
  using Field = std::remove_reference_t<decltype(c.*Member)>;
  c.*Member = static_cast<Field>(s.integer);
}
template <auto Member>
void set_bool(BrokerConfig& c, const Setting& s) {
  c.*Member = s.boolean;
}
template <auto Member>
void set_ms(BrokerConfig& c, const Setting& s) {
  c.*Member = ms_to_duration(s.integer);
}
// The replica.* and legacy.replication.* keys: fields of BrokerConfig::replication.
template <auto Member>
void set_repl_int(BrokerConfig& c, const Setting& s) {
  c.replication.*Member = static_cast<int32_t>(s.integer);
}
template <auto Member>
void set_repl_bool(BrokerConfig& c, const Setting& s) {
  c.replication.*Member = s.boolean;
}
template <auto Member>
void set_repl_ms(BrokerConfig& c, const Setting& s) {
  c.replication.*Member = ms_to_duration(s.integer);
}

// A key, its TOML type, its range (integers), and the setter for keys that map onto one field
// directly. Keys with aliases, precedence or string syntax have no setter: build() does them.
struct KeySpec {
  std::string_view name;
  Kind kind;
  int64_t min = 0;
  int64_t max = 0;
  Setter set = nullptr;
};

using C = BrokerConfig;
constexpr KeySpec kKeys[] = {
    {"advertised.listeners", Kind::string},
    {"auto.create.topics.enable", Kind::boolean, 0, 0, set_bool<&C::auto_create_topics_enable>},
    {"broker.heartbeat.interval.ms", Kind::integer, 10, kConfigInt32Max,
     set_ms<&C::broker_heartbeat_interval_ms>},
    {"broker.id", Kind::integer, 0, kConfigInt32Max},
    {"broker.session.timeout.ms", Kind::integer, 100, kConfigInt32Max,
     set_ms<&C::broker_session_timeout_ms>},
    {"connections.max.idle.ms", Kind::integer, 1, kConfigInt64Max,
     set_ms<&C::connections_max_idle_ms>},
    {"controller.quorum.election.timeout.ms", Kind::integer, 10, kConfigInt32Max,
     set_ms<&C::quorum_election_timeout_ms>},
    {"controller.quorum.voters", Kind::string},
    {"default.replication.factor", Kind::integer, 1, kInt16Max,
     set_int<&C::default_replication_factor>},
    {"delete.topic.enable", Kind::boolean, 0, 0, set_bool<&C::delete_topic_enable>},
    {"fetch.max.bytes", Kind::integer, 1024, kConfigInt32Max, set_int<&C::fetch_max_bytes>},
    {"group.initial.rebalance.delay.ms", Kind::integer, 0, kConfigInt32Max,
     set_ms<&C::group_initial_rebalance_delay_ms>},
    {"group.max.session.timeout.ms", Kind::integer, 0, kConfigInt32Max,
     set_ms<&C::group_max_session_timeout_ms>},
    {"group.min.session.timeout.ms", Kind::integer, 0, kConfigInt32Max,
     set_ms<&C::group_min_session_timeout_ms>},
    {"legacy.broker.epoch.fencing.disable", Kind::boolean, 0, 0,
     set_bool<&C::legacy_disable_broker_epoch_fencing>},
    {"legacy.eligible.leader.replicas.disable", Kind::boolean, 0, 0,
     set_bool<&C::legacy_disable_eligible_leader_replicas>},
    {"legacy.quorum.check.quorum.disable", Kind::boolean, 0, 0,
     set_bool<&C::legacy_disable_check_quorum>},
    {"legacy.quorum.pre.vote.disable", Kind::boolean, 0, 0, set_bool<&C::legacy_disable_pre_vote>},
    {"legacy.replication.epoch.answer.pre.kip.279", Kind::boolean, 0, 0,
     set_repl_bool<&ReplicationConfig::epoch_answer_pre_kip279>},
    {"legacy.replication.high.watermark.before.truncation", Kind::boolean, 0, 0,
     set_repl_bool<&ReplicationConfig::high_watermark_before_truncation>},
    {"legacy.replication.isr.expand.without.epoch.start", Kind::boolean, 0, 0,
     set_repl_bool<&ReplicationConfig::isr_expand_without_epoch_start>},
    {"legacy.replication.truncate.to.high.watermark", Kind::boolean, 0, 0,
     set_repl_bool<&ReplicationConfig::truncate_to_high_watermark>},
    {"listeners", Kind::string},
    {"log.cleaner.backoff.ms", Kind::integer, 1, kConfigInt64Max,
     set_ms<&C::log_cleaner_backoff_ms>},
    {"log.cleaner.delete.retention.ms", Kind::integer, 0, kConfigInt64Max,
     set_ms<&C::log_cleaner_delete_retention_ms>},
    {"log.cleanup.policy", Kind::string},
    {"log.dir", Kind::string},
    {"log.dirs", Kind::string},
    {"log.flush.interval.messages", Kind::integer, 1, kConfigInt64Max},
    {"log.flush.interval.ms", Kind::integer, 1, kConfigInt64Max, set_ms<&C::log_flush_interval_ms>},
    {"log.index.interval.bytes", Kind::integer, 1, kConfigInt32Max,
     set_int<&C::log_index_interval_bytes>},
    {"log.message.timestamp.type", Kind::string},
    {"log.retention.bytes", Kind::integer, -1, kConfigInt64Max, set_int<&C::log_retention_bytes>},
    {"log.retention.check.interval.ms", Kind::integer, 1, kConfigInt64Max,
     set_ms<&C::log_retention_check_interval_ms>},
    {"log.retention.hours", Kind::integer, -1, kConfigInt32Max},
    {"log.retention.minutes", Kind::integer, -1, kConfigInt32Max},
    {"log.retention.ms", Kind::integer, -1, kConfigInt64Max},
    {"log.roll.hours", Kind::integer, 1, kConfigInt32Max},
    {"log.roll.ms", Kind::integer, 1, kConfigInt64Max},
    {"log.segment.bytes", Kind::integer, 14, kConfigInt32Max, set_int<&C::log_segment_bytes>},
    {"max.connections", Kind::integer, 1, kConfigInt32Max, set_int<&C::max_connections>},
    {"message.max.bytes", Kind::integer, 1, static_cast<int64_t>(log::kBatchBytesMax),
     set_int<&C::message_max_bytes>},
    {"metadata.log.dir", Kind::string},
    {"min.insync.replicas", Kind::integer, 1, kConfigInt32Max, set_int<&C::min_insync_replicas>},
    {"node.id", Kind::integer, 0, kConfigInt32Max},
    {"num.partitions", Kind::integer, 1, kPartitionsPerTopicMax, set_int<&C::num_partitions>},
    {"offset.metadata.max.bytes", Kind::integer, 0, kConfigInt32Max,
     set_int<&C::offset_metadata_max_bytes>},
    {"offsets.retention.check.interval.ms", Kind::integer, 1, kConfigInt64Max,
     set_ms<&C::offsets_retention_check_interval_ms>},
    {"offsets.retention.minutes", Kind::integer, 1, kConfigInt32Max},
    {"offsets.topic.num.partitions", Kind::integer, 1, kPartitionsPerTopicMax,
     set_int<&C::offsets_topic_num_partitions>},
    {"process.roles", Kind::string},
    {"queued.max.requests", Kind::integer, 1, kConfigInt32Max, set_int<&C::queued_max_requests>},
    {"replica.fetch.backoff.ms", Kind::integer, 0, kConfigInt32Max,
     set_repl_ms<&ReplicationConfig::fetch_backoff>},
    {"replica.fetch.max.bytes", Kind::integer, 1, kConfigInt32Max,
     set_repl_int<&ReplicationConfig::fetch_max_bytes>},
    {"replica.fetch.response.max.bytes", Kind::integer, 1, kConfigInt32Max,
     set_repl_int<&ReplicationConfig::fetch_response_max_bytes>},
    {"replica.fetch.wait.max.ms", Kind::integer, 0, kConfigInt32Max,
     set_repl_ms<&ReplicationConfig::fetch_wait_max>},
    {"replica.lag.time.max.ms", Kind::integer, 1, kConfigInt32Max,
     set_repl_ms<&ReplicationConfig::lag_time_max>},
    {"socket.request.max.bytes", Kind::integer, 1024, kConfigInt32Max,
     set_int<&C::socket_request_max_bytes>},
    {"unclean.leader.election.enable", Kind::boolean, 0, 0,
     set_bool<&C::unclean_leader_election_enable>},
};

const KeySpec* find_spec(std::string_view name) {
  for (const KeySpec& spec : kKeys) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::integer:
      return "an integer";
    case Kind::boolean:
      return "a boolean";
    case Kind::string:
      return "a string";
  }
  return "?";
}

// ---- Reading the TOML document ----------------------------------------------------------------

// The checked settings of one file, by key, with the file name for messages.
class Settings {
 public:
  explicit Settings(std::string_view source) : source_(source) {}

  // Flattens the document into dotted keys and checks each (known, right type, in range, not
  // given twice), in document order so the first error reported is the first in the file.
  Status load(const toml::table& root) {
    std::vector<std::pair<std::string, const toml::node*>> flat;
    flatten(root, "", flat);
    auto position = [](const auto& entry) {
      const toml::source_position& p = entry.second->source().begin;
      return std::pair(p.line, p.column);
    };
    std::stable_sort(flat.begin(), flat.end(),
                     [&](const auto& a, const auto& b) { return position(a) < position(b); });
    for (auto& [key, node] : flat) GREGOR_RETURN_IF_ERROR(add(std::move(key), *node));
    return Status::Ok();
  }

  const Setting* find(std::string_view key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Setting, std::less<>>& all() const { return by_key_; }

  Status error_at(const Setting& s, std::string_view why) const {
    return errorf(Errc::invalid_argument, "{}:{}: key '{}': {}", source_, s.line, s.key, why);
  }
  const std::string& source() const { return source_; }

 private:
  // A non-empty table is a level of a dotted name; anything else (an empty table too) is a value.
  static void flatten(const toml::table& table, const std::string& prefix,
                      std::vector<std::pair<std::string, const toml::node*>>& out) {
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

  Status add(std::string key, const toml::node& node) {
    Setting s{std::move(key), node.source().begin.line};
    const KeySpec* spec = find_spec(s.key);
    if (spec == nullptr) return error_at(s, "unknown key");
    if (const Setting* first = find(s.key)) {
      return error_at(s, fmt::format("given twice (first on line {})", first->line));
    }
    if (spec->kind == Kind::integer && node.is_integer()) {
      s.integer = node.as_integer()->get();
      if (s.integer < spec->min || s.integer > spec->max) {
        return error_at(s, fmt::format("{} is outside [{}, {}]", s.integer, spec->min, spec->max));
      }
    } else if (spec->kind == Kind::boolean && node.is_boolean()) {
      s.boolean = node.as_boolean()->get();
    } else if (spec->kind == Kind::string && node.is_string()) {
      s.text = node.as_string()->get();
    } else {
      return error_at(s, fmt::format("expected {}, got {}", kind_name(spec->kind),
                                     toml_type_name(node.type())));
    }
    std::string name = s.key;
    by_key_.emplace(std::move(name), std::move(s));
    return Status::Ok();
  }

  std::string source_;
  std::map<std::string, Setting, std::less<>> by_key_;
};

// ---- Building the config from checked settings ------------------------------------------------

Status apply_identity(const Settings& s, BrokerConfig& c) {
  const Setting* broker_id = s.find("broker.id");
  const Setting* node_id = s.find("node.id");
  if (broker_id && node_id && broker_id->integer != node_id->integer) {
    const Setting& later = broker_id->line > node_id->line ? *broker_id : *node_id;
    const Setting& other = &later == broker_id ? *node_id : *broker_id;
    return s.error_at(later, fmt::format("{} differs from {} = {} (line {}); they are aliases",
                                         later.integer, other.key, other.integer, other.line));
  }
  if (const Setting* id = node_id ? node_id : broker_id) {
    c.node_id = static_cast<int32_t>(id->integer);
  }
  const Setting* dirs = s.find("log.dirs");
  if (dirs == nullptr) dirs = s.find("log.dir");
  if (dirs != nullptr) {
    if (trim(dirs->text).empty()) return s.error_at(*dirs, "no directory given");
    std::vector<std::string_view> list = split_list(dirs->text);
    if (std::find(list.begin(), list.end(), "") != list.end()) {
      return s.error_at(*dirs, fmt::format("empty directory name in '{}'", dirs->text));
    }
    if (list.size() > 1) {
      return s.error_at(*dirs, fmt::format("{} directories given; Gregor supports exactly one log "
                                           "directory for now",
                                           list.size()));
    }
    c.log_dir = std::string(list[0]);
  }
  return Status::Ok();
}

Status apply_listeners(const Settings& s, BrokerConfig& c) {
  if (const Setting* l = s.find("listeners")) {
    auto parsed = parse_listener(l->text);
    if (!parsed.ok()) return s.error_at(*l, parsed.status().message());
    c.listener = *parsed;
  }
  c.advertised_listener = c.listener;
  if (const Setting* a = s.find("advertised.listeners")) {
    auto parsed = parse_listener(a->text);
    if (!parsed.ok()) return s.error_at(*a, parsed.status().message());
    if (parsed->host.empty() || parsed->host == "0.0.0.0" || parsed->host == "::") {
      return s.error_at(*a, "cannot advertise a wildcard address; name a host clients can reach");
    }
    if (parsed->port == 0) return s.error_at(*a, "cannot advertise port 0");
    c.advertised_listener = *parsed;
  }
  return Status::Ok();
}

Status apply_quorum(const Settings& s, BrokerConfig& c) {
  const Setting* voters = s.find("controller.quorum.voters");
  if (voters != nullptr) {
    auto parsed = parse_quorum_voters(voters->text);
    if (!parsed.ok()) return s.error_at(*voters, parsed.status().message());
    c.quorum_voters = std::move(parsed).value();
  }
  if (const Setting* roles = s.find("process.roles")) {
    if (voters == nullptr) {
      return s.error_at(*roles, "needs controller.quorum.voters (the controllers to follow)");
    }
    c.role_broker = c.role_controller = false;
    for (std::string_view role : split_list(roles->text)) {
      role = trim(role);
      if (role == "broker" && !c.role_broker) {
        c.role_broker = true;
      } else if (role == "controller" && !c.role_controller) {
        c.role_controller = true;
      } else {
        return s.error_at(*roles, fmt::format("'{}': expected broker, controller or both, each "
                                              "once",
                                              roles->text));
      }
    }
  }
  if (c.role_controller && c.kraft() && !c.is_voter()) {
    const Setting* at = s.find("process.roles") ? s.find("process.roles") : voters;
    return s.error_at(*at, fmt::format("node {} is a controller but not among the voters {}",
                                       c.node_id, quorum_voters_string(c.quorum_voters)));
  }
  if (const Setting* dir = s.find("metadata.log.dir")) {
    if (trim(dir->text).empty()) return s.error_at(*dir, "no directory given");
    c.metadata_log_dir = dir->text;
  }
  if (c.broker_heartbeat_interval_ms >= c.broker_session_timeout_ms) {
    const Setting* at = s.find("broker.heartbeat.interval.ms")
                            ? s.find("broker.heartbeat.interval.ms")
                            : s.find("broker.session.timeout.ms");
    return s.error_at(*at, "broker.heartbeat.interval.ms must be below broker.session.timeout.ms");
  }
  return Status::Ok();
}

// Kafka's precedence: log.roll.ms over log.roll.hours; log.retention.ms over .minutes over .hours.
void apply_durations(const Settings& s, BrokerConfig& c) {
  if (const Setting* ms = s.find("log.roll.ms")) {
    c.log_roll_ms = ms_to_duration(ms->integer);
  } else if (const Setting* h = s.find("log.roll.hours")) {
    c.log_roll_ms = ms_to_duration(h->integer * kMsPerHour);
  }
  std::optional<int64_t> retention_ms;
  if (const Setting* ms = s.find("log.retention.ms")) {
    retention_ms = ms->integer;
  } else if (const Setting* m = s.find("log.retention.minutes")) {
    retention_ms = m->integer < 0 ? -1 : m->integer * kMsPerMinute;
  } else if (const Setting* h = s.find("log.retention.hours")) {
    retention_ms = h->integer < 0 ? -1 : h->integer * kMsPerHour;
  }
  if (retention_ms) {
    c.log_retention_ms =
        *retention_ms < 0 ? std::nullopt : std::optional(ms_to_duration(*retention_ms));
  }
  if (const Setting* m = s.find("offsets.retention.minutes")) {
    c.offsets_retention_minutes = ms_to_duration(m->integer * kMsPerMinute);
  }
}

Status apply_log_values(const Settings& s, BrokerConfig& c) {
  if (const Setting* p = s.find("log.cleanup.policy")) {
    auto policy = parse_cleanup_policy(p->text);
    if (!policy.ok()) return s.error_at(*p, policy.status().message());
    c.log_cleanup_delete = policy->cleanup_delete;
    c.log_cleanup_compact = policy->cleanup_compact;
  }
  if (const Setting* t = s.find("log.message.timestamp.type")) {
    auto type = parse_timestamp_type(t->text);
    if (!type.ok()) return s.error_at(*t, type.status().message());
    c.log_message_timestamp_type = *type;
  }
  if (const Setting* f = s.find("log.flush.interval.messages")) {
    // Kafka's Long.MAX_VALUE means never, which is UINT64_MAX in LogConfig.
    c.log_flush_interval_messages =
        f->integer == kConfigInt64Max ? UINT64_MAX : static_cast<uint64_t>(f->integer);
  }
  return Status::Ok();
}

Status check_cross_keys(const Settings& s, const BrokerConfig& c) {
  if (c.group_min_session_timeout_ms > c.group_max_session_timeout_ms) {
    // Reported at whichever of the two keys the file gives (max if both).
    int64_t min_ms = to_ms(c.group_min_session_timeout_ms);
    int64_t max_ms = to_ms(c.group_max_session_timeout_ms);
    if (const Setting* max = s.find("group.max.session.timeout.ms")) {
      return s.error_at(
          *max, fmt::format("{} is below group.min.session.timeout.ms ({})", max_ms, min_ms));
    }
    const Setting* min = s.find("group.min.session.timeout.ms");
    GREGOR_ASSERT(min != nullptr, "the default session timeouts are ordered");
    return s.error_at(*min,
                      fmt::format("{} is above group.max.session.timeout.ms ({})", min_ms, max_ms));
  }
  // Without a quorum the broker is its own controller and the only broker: one replica.
  if (const Setting* r = s.find("default.replication.factor"); r && r->integer != 1 && !c.kraft()) {
    return s.error_at(*r, fmt::format("{} needs more brokers: without controller.quorum.voters "
                                      "this broker is the only one, and the factor must be 1",
                                      r->integer));
  }
  if (c.replication.fetch_wait_max >= c.replication.lag_time_max) {
    const Setting* w = s.find("replica.fetch.wait.max.ms");
    const Setting* l = s.find("replica.lag.time.max.ms");
    const Setting* at = w ? w : l;
    GREGOR_ASSERT(at != nullptr, "the defaults are ordered");
    return s.error_at(
        *at, fmt::format("replica.fetch.wait.max.ms ({}) must be below "
                         "replica.lag.time.max.ms ({}): a follower waiting at the "
                         "leader would leave the ISR",
                         to_ms(c.replication.fetch_wait_max), to_ms(c.replication.lag_time_max)));
  }
  Status log_ok = log::validate_config(c.default_log_config());
  if (!log_ok.ok()) {
    return errorf(Errc::invalid_argument, "{}: log defaults: {}", s.source(), log_ok.message());
  }
  return Status::Ok();
}

Result<BrokerConfig> build(const Settings& s) {
  BrokerConfig c;
  for (const auto& [key, setting] : s.all()) {
    const KeySpec* spec = find_spec(key);
    if (spec->set != nullptr) spec->set(c, setting);
  }
  GREGOR_RETURN_IF_ERROR(apply_identity(s, c));
  GREGOR_RETURN_IF_ERROR(apply_listeners(s, c));
  GREGOR_RETURN_IF_ERROR(apply_quorum(s, c));
  apply_durations(s, c);
  GREGOR_RETURN_IF_ERROR(apply_log_values(s, c));
  GREGOR_RETURN_IF_ERROR(check_cross_keys(s, c));
  return c;
}

Status syntax_error(std::string_view source, const toml::parse_error& e) {
  const toml::source_position& p = e.source().begin;
  return errorf(Errc::invalid_argument, "{}:{}:{}: {}", source, p.line, p.column, e.description());
}

Result<BrokerConfig> parse(std::string_view text, std::string_view source) {
  if (text.size() > kConfigTextBytesMax) {
    return errorf(Errc::invalid_argument, "{}: {} bytes is over the limit of {}", source,
                  text.size(), kConfigTextBytesMax);
  }
#if TOML_EXCEPTIONS
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return syntax_error(source, e);
  }
#else
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) return syntax_error(source, parsed.error());
  const toml::table& root = parsed.table();
#endif
  Settings settings(source);
  GREGOR_RETURN_IF_ERROR(settings.load(root));
  return build(settings);
}

}  // namespace

Result<BrokerConfig> parse_broker_config(std::string_view toml_text, std::string_view source_name) {
#if defined(__cpp_exceptions)
  // toml++ and the standard library may throw (bad_alloc); a config error never escapes as one.
  try {
    return parse(toml_text, source_name);
  } catch (const std::exception& e) {
    return errorf(Errc::invalid_argument, "{}: {}", source_name, e.what());
  }
#else
  return parse(toml_text, source_name);
#endif
}

std::vector<std::string_view> broker_config_keys() {
  std::vector<std::string_view> keys;
  for (const KeySpec& spec : kKeys) keys.push_back(spec.name);
  return keys;
}

// ---- Using the config ------------------------------------------------------------------------

log::LogConfig BrokerConfig::default_log_config() const {
  log::LogConfig c;
  c.segment_bytes = static_cast<uint64_t>(log_segment_bytes);
  c.segment_ms = log_roll_ms;
  c.index_interval_bytes = static_cast<uint32_t>(log_index_interval_bytes);
  c.retention_ms = log_retention_ms ? duration_to_ms(*log_retention_ms) : -1;
  c.retention_bytes = log_retention_bytes;
  c.flush_messages = log_flush_interval_messages;
  c.flush_ms = log_flush_interval_ms;
  c.message_timestamp_type = log_message_timestamp_type;
  c.max_message_bytes = static_cast<uint32_t>(message_max_bytes);
  c.cleanup_delete = log_cleanup_delete;
  c.cleanup_compact = log_cleanup_compact;
  c.delete_retention_ms = duration_to_ms(log_cleaner_delete_retention_ms);
  return c;
}

std::vector<std::pair<std::string, std::string>> BrokerConfig::describe() const {
  auto num = [](auto v) { return fmt::format("{}", v); };
  auto ms = [](Duration d) { return fmt::format("{}", duration_to_ms(d)); };
  auto in_unit = [](std::optional<Duration> d, int64_t unit_ms) {
    return d ? fmt::format("{}", duration_to_ms(*d) / unit_ms) : std::string("-1");
  };
  uint64_t flush_messages = log_flush_interval_messages;
  std::vector<std::pair<std::string, std::string>> out = {
      {"advertised.listeners", advertised_listener.to_string()},
      {"auto.create.topics.enable", num(auto_create_topics_enable)},
      {"broker.heartbeat.interval.ms", ms(broker_heartbeat_interval_ms)},
      {"broker.id", num(node_id)},
      {"broker.session.timeout.ms", ms(broker_session_timeout_ms)},
      {"controller.quorum.election.timeout.ms", ms(quorum_election_timeout_ms)},
      {"controller.quorum.voters", quorum_voters_string(quorum_voters)},
      {"connections.max.idle.ms", ms(connections_max_idle_ms)},
      {"default.replication.factor", num(default_replication_factor)},
      {"delete.topic.enable", num(delete_topic_enable)},
      {"fetch.max.bytes", num(fetch_max_bytes)},
      {"group.initial.rebalance.delay.ms", ms(group_initial_rebalance_delay_ms)},
      {"group.max.session.timeout.ms", ms(group_max_session_timeout_ms)},
      {"group.min.session.timeout.ms", ms(group_min_session_timeout_ms)},
      {"legacy.broker.epoch.fencing.disable", num(legacy_disable_broker_epoch_fencing)},
      {"legacy.eligible.leader.replicas.disable", num(legacy_disable_eligible_leader_replicas)},
      {"legacy.quorum.check.quorum.disable", num(legacy_disable_check_quorum)},
      {"legacy.quorum.pre.vote.disable", num(legacy_disable_pre_vote)},
      {"legacy.replication.epoch.answer.pre.kip.279", num(replication.epoch_answer_pre_kip279)},
      {"legacy.replication.high.watermark.before.truncation",
       num(replication.high_watermark_before_truncation)},
      {"legacy.replication.isr.expand.without.epoch.start",
       num(replication.isr_expand_without_epoch_start)},
      {"legacy.replication.truncate.to.high.watermark",
       num(replication.truncate_to_high_watermark)},
      {"listeners", listener.to_string()},
      {"log.cleaner.backoff.ms", ms(log_cleaner_backoff_ms)},
      {"log.cleaner.delete.retention.ms", ms(log_cleaner_delete_retention_ms)},
      {"log.cleanup.policy", cleanup_policy_string(log_cleanup_delete, log_cleanup_compact)},
      {"log.dir", log_dir},
      {"log.dirs", log_dir},
      {"log.flush.interval.messages",
       flush_messages == UINT64_MAX ? num(kConfigInt64Max) : num(flush_messages)},
      {"log.flush.interval.ms", ms(log_flush_interval_ms)},
      {"log.index.interval.bytes", num(log_index_interval_bytes)},
      {"log.message.timestamp.type",
       std::string(timestamp_type_string(log_message_timestamp_type))},
      {"log.retention.bytes", num(log_retention_bytes)},
      {"log.retention.check.interval.ms", ms(log_retention_check_interval_ms)},
      {"log.retention.hours", in_unit(log_retention_ms, kMsPerHour)},
      {"log.retention.minutes", in_unit(log_retention_ms, kMsPerMinute)},
      {"log.retention.ms", in_unit(log_retention_ms, 1)},
      {"log.roll.hours", in_unit(log_roll_ms, kMsPerHour)},
      {"log.roll.ms", ms(log_roll_ms)},
      {"log.segment.bytes", num(log_segment_bytes)},
      {"max.connections", num(max_connections)},
      {"message.max.bytes", num(message_max_bytes)},
      {"metadata.log.dir", effective_metadata_dir()},
      {"min.insync.replicas", num(min_insync_replicas)},
      {"node.id", num(node_id)},
      {"num.partitions", num(num_partitions)},
      {"offset.metadata.max.bytes", num(offset_metadata_max_bytes)},
      {"offsets.retention.check.interval.ms", ms(offsets_retention_check_interval_ms)},
      {"offsets.retention.minutes", in_unit(offsets_retention_minutes, kMsPerMinute)},
      {"offsets.topic.num.partitions", num(offsets_topic_num_partitions)},
      {"process.roles", kraft() ? std::string(role_broker && role_controller ? "broker,controller"
                                              : role_broker                  ? "broker"
                                                                             : "controller")
                                : std::string("")},
      {"queued.max.requests", num(queued_max_requests)},
      {"replica.fetch.backoff.ms", ms(replication.fetch_backoff)},
      {"replica.fetch.max.bytes", num(replication.fetch_max_bytes)},
      {"replica.fetch.response.max.bytes", num(replication.fetch_response_max_bytes)},
      {"replica.fetch.wait.max.ms", ms(replication.fetch_wait_max)},
      {"replica.lag.time.max.ms", ms(replication.lag_time_max)},
      {"socket.request.max.bytes", num(socket_request_max_bytes)},
      {"unclean.leader.election.enable", num(unclean_leader_election_enable)},
  };
  std::sort(out.begin(), out.end());
  return out;
}

std::string_view toml_type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

}  // namespace gregor::broker
