// Reading a scenario file: the top-level keys, [cluster], [[topic]], [[producer]] and
// [[consumer]] here; [[fault]] and [nemesis] in scenario_toml_faults.cc; writing in
// scenario_toml_write.cc. Sections are read in dependency order (the cluster bounds the topics'
// replication, topics bound the workloads, workloads name the clients faults may hit), so each
// check sees what it needs.
#include "sim/scenario/scenario_toml.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <exception>

#include "node/broker/broker_config.h"
#include "sim/check/checker.h"
#include "sim/check/raft_checks.h"
#include "sim/scenario/scenario_toml_internal.h"

namespace gregor::scenario {

namespace {

using internal::Ctx;
using internal::line_of;
using internal::suggestion;
using internal::Table;
using internal::Universe;

// What `expect` may name: the checker's kinds (docs/history-format.md) and the runner's own.
std::vector<std::string_view> expectable_kinds() {
  std::vector<std::string_view> kinds(check::kViolationKinds.begin(), check::kViolationKinds.end());
  kinds.push_back(kRunnerUnavailable);
  kinds.insert(kinds.end(), check::kRaftViolationKinds.begin(), check::kRaftViolationKinds.end());
  kinds.push_back(kRunnerControllerUnavailable);
  return kinds;
}

constexpr std::string_view kRootKeys[] = {
    "name",    "description", "seed",  "duration", "mode",     "recovery", "expect",
    "buggify", "cluster",     "topic", "producer", "consumer", "fault",    "nemesis",
};

// Kafka's legal topic characters (and its length limit).
bool valid_topic_name(std::string_view name) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  return !name.empty() && name.size() <= kNameBytesMax && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), ok);
}

std::string list_names(const std::vector<TopicSpec>& topics) {
  std::string out;
  for (const TopicSpec& topic : topics) out += (out.empty() ? "" : ", ") + topic.name;
  return out;
}

class Parser {
 public:
  Parser(const Ctx& cx, const toml::table& root) : cx_(cx), root_(cx, root, "") {}

  Result<Scenario> run(std::string default_name) {
    s_.name = std::move(default_name);
    GREGOR_RETURN_IF_ERROR(read_header());
    GREGOR_RETURN_IF_ERROR(read_cluster());
    GREGOR_RETURN_IF_ERROR(for_each_table("topic", kTopicsMax, &Parser::read_topic));
    GREGOR_RETURN_IF_ERROR(for_each_table("producer", kWorkloadsMax, &Parser::read_producer));
    GREGOR_RETURN_IF_ERROR(for_each_table("consumer", kWorkloadsMax, &Parser::read_consumer));
    GREGOR_RETURN_IF_ERROR(internal::read_faults(root_, universe_, s_));
    GREGOR_RETURN_IF_ERROR(internal::read_nemesis(root_, s_));
    return std::move(s_);
  }

 private:
  Status read_header();
  Status read_seed();
  Status read_cluster();
  Status check_staged_limits(const Table& cluster) const;
  Status read_topic(const Table& t);
  Status read_producer(const Table& t);
  Status read_consumer(const Table& t);
  Status read_workload_name(const Table& t, std::string& name, uint32_t& count);
  Status read_topic_ref(const Table& t, std::string& topic) const;
  Status read_topic_list(const Table& t, std::vector<std::string>& topics) const;
  Status read_start(const Table& t, Duration& start) const;

  // Reads each table of the array `key` ([[key]]) with `read`.
  Status for_each_table(std::string_view key, size_t max, Status (Parser::*read)(const Table&)) {
    const toml::node* node = root_.find(key);
    if (node == nullptr) return Status::Ok();
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return root_.error(key, fmt::format("expected an array of tables ([[{}]]), got {}", key,
                                          internal::toml_type_name(node->type())));
    }
    if (array->size() > max) {
      return root_.error(key, fmt::format("{} tables is over the limit of {}", array->size(), max));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      std::string path = fmt::format("{}[{}]", key, i + 1);
      if (!item.is_table()) {
        return cx_.at(
            item, path,
            fmt::format("expected a table, got {}", internal::toml_type_name(item.type())));
      }
      GREGOR_RETURN_IF_ERROR((this->*read)(Table(cx_, *item.as_table(), path)));
    }
    return Status::Ok();
  }

  const Ctx& cx_;
  Table root_;
  Scenario s_;
  broker::BrokerConfig broker_defaults_;  // the scenario's broker config, for topic configs
  Universe universe_;
  std::map<std::string, uint32_t, std::less<>> workload_lines_;  // name -> line of its table
};

Status Parser::read_header() {
  const Table& t = root_;
  GREGOR_RETURN_IF_ERROR(t.check_keys({std::begin(kRootKeys), std::end(kRootKeys)}));
  GREGOR_RETURN_IF_ERROR(t.read("name", s_.name));
  GREGOR_RETURN_IF_ERROR(t.read("description", s_.description));
  GREGOR_RETURN_IF_ERROR(read_seed());
  GREGOR_RETURN_IF_ERROR(t.read_duration("duration", nanoseconds(1), kRunLengthMax, s_.duration));
  GREGOR_RETURN_IF_ERROR(
      t.read_enum<Mode>("mode", {{"safety", Mode::safety}, {"liveness", Mode::liveness}}, s_.mode));
  GREGOR_RETURN_IF_ERROR(t.read_duration("recovery", Duration::zero(), kRunLengthMax, s_.recovery));
  GREGOR_RETURN_IF_ERROR(t.read("expect", s_.expect));
  GREGOR_RETURN_IF_ERROR(t.read("buggify", s_.buggify));
  std::vector<std::string_view> kinds = expectable_kinds();
  bool known =
      s_.expect == "pass" || std::find(kinds.begin(), kinds.end(), s_.expect) != kinds.end();
  if (!known) {
    std::vector<std::string_view> all = kinds;
    all.insert(all.begin(), "pass");
    return t.error("expect", fmt::format("\"{}\" is not \"pass\" nor a violation kind of "
                                         "docs/history-format.md{}",
                                         s_.expect, suggestion(s_.expect, all, '"')));
  }
  return Status::Ok();
}

// An integer, or a string of digits for seeds above TOML's int64 range.
Status Parser::read_seed() {
  const toml::node* node = root_.find("seed");
  if (node == nullptr) return Status::Ok();
  if (node->is_integer()) {
    int64_t v = node->as_integer()->get();
    if (v < 0) return root_.error("seed", fmt::format("{} is negative", v));
    s_.seed = static_cast<uint64_t>(v);
    return Status::Ok();
  }
  if (node->is_string()) {
    std::string_view text = node->as_string()->get();
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
      s_.seed = v;
      return Status::Ok();
    }
    return root_.error("seed", fmt::format("\"{}\" is not a seed (0..{})", text, UINT64_MAX));
  }
  return root_.error(
      "seed", fmt::format("expected an integer, got {}", internal::toml_type_name(node->type())));
}

Status Parser::read_cluster() {
  const toml::table* table = nullptr;
  GREGOR_RETURN_IF_ERROR(root_.read_table("cluster", table));
  if (table != nullptr) {
    Table t(cx_, *table, "cluster");
    GREGOR_RETURN_IF_ERROR(
        t.check_keys({"brokers", "controllers", "dedicated_controllers", "bugs", "config"}));
    GREGOR_RETURN_IF_ERROR(t.read_int("brokers", 1, kBrokersMax, s_.brokers));
    GREGOR_RETURN_IF_ERROR(t.read_int("controllers", 0, kControllersMax, s_.controllers));
    GREGOR_RETURN_IF_ERROR(t.read("dedicated_controllers", s_.dedicated_controllers));
    GREGOR_RETURN_IF_ERROR(check_staged_limits(t));
    const toml::table* bugs = nullptr;
    GREGOR_RETURN_IF_ERROR(t.read_table("bugs", bugs));
    if (bugs != nullptr) {
      Table b(cx_, *bugs, "cluster.bugs");
      GREGOR_RETURN_IF_ERROR(b.check_keys({"ack_before_append"}));
      GREGOR_RETURN_IF_ERROR(b.read("ack_before_append", s_.bugs.ack_before_append));
    }
    const toml::table* config = nullptr;
    GREGOR_RETURN_IF_ERROR(t.read_table("config", config));
    if (config != nullptr) {
      Table config_table(cx_, *config, "cluster.config");
      GREGOR_RETURN_IF_ERROR(internal::read_broker_config(config_table, s_, broker_defaults_));
    }
  }
  universe_.brokers = s_.brokers;
  universe_.controllers = s_.controllers;
  universe_.dedicated_controllers = s_.dedicated_controllers;
  return Status::Ok();
}

// ---- Staged limits: lift these as the features land ------------------------------------------
// A quorum of 1, 3 or 5 voters (an even count adds no fault tolerance); several brokers need it
// (the local controller serves one broker).
Status Parser::check_staged_limits(const Table& cluster) const {
  auto line = [&](std::string_view key) {
    const toml::node* n = cluster.find(key);
    return n != nullptr ? line_of(*n) : line_of(*cluster.find("brokers"));
  };
  if (s_.controllers != 0 && s_.controllers != 1 && s_.controllers != 3 && s_.controllers != 5) {
    return cx_.at_line(line("controllers"),
                       fmt::format("controllers = {}: a quorum has 1, 3 or 5 voters (0: the "
                                   "broker's local controller)",
                                   s_.controllers));
  }
  if (s_.controllers == 0 && s_.dedicated_controllers) {
    return cx_.at_line(line("dedicated_controllers"),
                       "dedicated_controllers = true needs controllers = 1, 3 or 5");
  }
  if (s_.controllers == 0 && s_.brokers > 1) {
    return cx_.at_line(line("brokers"),
                       fmt::format("brokers = {}: several brokers need a controller quorum "
                                   "(controllers = 1, 3 or 5)",
                                   s_.brokers));
  }
  if (!s_.dedicated_controllers && s_.controllers > s_.brokers) {
    return cx_.at_line(line("controllers"),
                       fmt::format("controllers = {}: combined controllers are the first brokers, "
                                   "and there are only {} (or set dedicated_controllers = true)",
                                   s_.controllers, s_.brokers));
  }
  return Status::Ok();
}

Status Parser::read_topic(const Table& t) {
  GREGOR_RETURN_IF_ERROR(t.check_keys({"name", "partitions", "replication_factor", "config"}));
  TopicSpec topic;
  if (!t.has("name")) return t.error_here("a topic needs a name");
  GREGOR_RETURN_IF_ERROR(t.read("name", topic.name));
  if (!valid_topic_name(topic.name)) {
    return t.error("name", fmt::format("\"{}\" is not a topic name (1 to {} of a-z A-Z 0-9 . _ -)",
                                       topic.name, kNameBytesMax));
  }
  for (const TopicSpec& other : s_.topics) {
    if (other.name == topic.name)
      return t.error("name", "topic \"" + topic.name + "\" is declared twice");
  }
  GREGOR_RETURN_IF_ERROR(t.read_int("partitions", 1, kPartitionsPerTopicMax, topic.partitions));
  GREGOR_RETURN_IF_ERROR(
      t.read_int("replication_factor", 1, kBrokersMax, topic.replication_factor));
  if (static_cast<uint32_t>(topic.replication_factor) > s_.brokers) {
    return t.error("replication_factor",
                   fmt::format("replication_factor = {} is more than brokers = {}",
                               topic.replication_factor, s_.brokers));
  }
  const toml::table* config = nullptr;
  GREGOR_RETURN_IF_ERROR(t.read_table("config", config));
  if (config != nullptr) {
    GREGOR_RETURN_IF_ERROR(internal::read_topic_config(Table(cx_, *config, t.path_of("config")),
                                                       broker_defaults_, topic));
  }
  universe_.topics.emplace(topic.name, topic.partitions);
  s_.topics.push_back(std::move(topic));
  return Status::Ok();
}

// "NAME-1".."NAME-count" become client process names; NAME is unique over all workloads.
Status Parser::read_workload_name(const Table& t, std::string& name, uint32_t& count) {
  GREGOR_RETURN_IF_ERROR(t.read("name", name));
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (name.empty() || name.size() > kNameBytesMax || !std::all_of(name.begin(), name.end(), ok)) {
    return t.error("name",
                   fmt::format("\"{}\" is not a workload name (1 to {} of a-z A-Z 0-9 . _ -)", name,
                               kNameBytesMax));
  }
  if (name == "broker" || name == "world") {
    return t.error("name",
                   fmt::format("\"{}\" is reserved (processes {}-N exist already)", name, name));
  }
  if (auto it = workload_lines_.find(name); it != workload_lines_.end()) {
    return t.error("name", fmt::format("workload \"{}\" is declared twice (first on line {})", name,
                                       it->second));
  }
  if (workload_lines_.size() + 1 > kWorkloadsMax) {
    return t.error_here(fmt::format("more than {} workloads", kWorkloadsMax));
  }
  workload_lines_.emplace(name, t.line());
  GREGOR_RETURN_IF_ERROR(t.read_int("count", 1, kClientsPerWorkloadMax, count));
  for (uint32_t i = 1; i <= count; ++i) universe_.clients.insert(fmt::format("{}-{}", name, i));
  return Status::Ok();
}

// A declared topic; absent, the only declared topic.
Status Parser::read_topic_ref(const Table& t, std::string& topic) const {
  if (!t.has("topic")) {
    if (universe_.topics.size() == 1) {
      topic = universe_.topics.begin()->first;
      return Status::Ok();
    }
    if (universe_.topics.empty()) return t.error_here("no [[topic]] is declared for it to use");
    return t.error_here(fmt::format("needs a topic (one of {})", list_names(s_.topics)));
  }
  GREGOR_RETURN_IF_ERROR(t.read("topic", topic));
  if (universe_.topics.count(topic) != 0) return Status::Ok();
  std::vector<std::string_view> known;
  for (const auto& [name, partitions] : universe_.topics) known.push_back(name);
  return t.error("topic", fmt::format("topic \"{}\" is not declared in a [[topic]]{}", topic,
                                      suggestion(topic, known, '"')));
}

// Declared topics, each once; absent, every declared topic.
Status Parser::read_topic_list(const Table& t, std::vector<std::string>& topics) const {
  const toml::array* array = nullptr;
  GREGOR_RETURN_IF_ERROR(t.read_array("topics", array));
  if (array == nullptr) {
    if (s_.topics.empty()) return t.error_here("no [[topic]] is declared for it to read");
    for (const TopicSpec& topic : s_.topics) topics.push_back(topic.name);
    return Status::Ok();
  }
  if (array->empty()) return t.error("topics", "no topics listed");
  std::vector<std::string_view> known;
  for (const auto& [name, partitions] : universe_.topics) known.push_back(name);
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    std::string path = fmt::format("{}[{}]", t.path_of("topics"), i + 1);
    if (!item.is_string()) {
      return cx_.at(
          item, path,
          fmt::format("expected a string, got {}", internal::toml_type_name(item.type())));
    }
    std::string name(item.as_string()->get());
    if (universe_.topics.count(name) == 0) {
      return cx_.at(item, path,
                    fmt::format("topic \"{}\" is not declared in a [[topic]]{}", name,
                                suggestion(name, known, '"')));
    }
    if (std::find(topics.begin(), topics.end(), name) != topics.end()) {
      return cx_.at(item, path, fmt::format("topic \"{}\" is listed twice", name));
    }
    topics.push_back(std::move(name));
  }
  return Status::Ok();
}

Status Parser::read_start(const Table& t, Duration& start) const {
  GREGOR_RETURN_IF_ERROR(t.read_duration("start", Duration::zero(), kRunLengthMax, start));
  if (start >= s_.duration) {
    return t.error("start", fmt::format("start = {} is not before duration = {}",
                                        internal::show(start), internal::show(s_.duration)));
  }
  return Status::Ok();
}

Status Parser::read_producer(const Table& t) {
  GREGOR_RETURN_IF_ERROR(
      t.check_keys({"name", "count", "topic", "rate", "records", "keys", "acks", "idempotence",
                    "max_in_flight", "value_bytes", "linger", "start"}));
  ProducerSpec p;
  GREGOR_RETURN_IF_ERROR(read_workload_name(t, p.name, p.count));
  GREGOR_RETURN_IF_ERROR(read_topic_ref(t, p.topic));
  GREGOR_RETURN_IF_ERROR(t.read_number("rate", 0, kRecordsPerSecondMax, p.rate));
  if (p.rate <= 0) return t.error("rate", "must be more than 0 records per second");
  GREGOR_RETURN_IF_ERROR(t.read_int("records", 0, INT64_MAX, p.records));
  GREGOR_RETURN_IF_ERROR(t.read_int("keys", 0, kKeysMax, p.keys));
  if (const toml::node* acks = t.find("acks"); acks != nullptr && acks->is_integer()) {
    GREGOR_RETURN_IF_ERROR(t.read_int("acks", -1, 1, p.acks));
  } else {
    GREGOR_RETURN_IF_ERROR(t.read_enum<Acks>(
        "acks", {{"all", Acks::all}, {"1", Acks::leader}, {"0", Acks::none}, {"-1", Acks::all}},
        p.acks));
  }
  GREGOR_RETURN_IF_ERROR(t.read_int("max_in_flight", 1, kMaxInFlightMax, p.max_in_flight));
  // Kafka's rule: idempotence is on by default unless acks or max.in.flight conflict with it;
  // asked for explicitly, a conflict is an error.
  p.idempotence = p.acks == Acks::all && p.max_in_flight <= kIdempotentInFlightMax;
  GREGOR_RETURN_IF_ERROR(t.read("idempotence", p.idempotence));
  if (p.idempotence && p.acks != Acks::all) {
    return t.error("idempotence", "an idempotent producer needs acks = \"all\"");
  }
  if (p.idempotence && p.max_in_flight > kIdempotentInFlightMax) {
    return t.error("idempotence", fmt::format("an idempotent producer needs max_in_flight <= {}",
                                              kIdempotentInFlightMax));
  }
  GREGOR_RETURN_IF_ERROR(t.read_int("value_bytes", 0, kValueBytesMax, p.value_bytes));
  GREGOR_RETURN_IF_ERROR(t.read_duration("linger", Duration::zero(), kRunLengthMax, p.linger));
  GREGOR_RETURN_IF_ERROR(read_start(t, p.start));
  s_.producers.push_back(std::move(p));
  return Status::Ok();
}

Status Parser::read_consumer(const Table& t) {
  GREGOR_RETURN_IF_ERROR(
      t.check_keys({"name", "count", "topics", "mode", "group", "isolation", "commit",
                    "auto_commit_interval", "from", "poll_timeout", "start"}));
  ConsumerSpec c;
  GREGOR_RETURN_IF_ERROR(read_workload_name(t, c.name, c.count));
  GREGOR_RETURN_IF_ERROR(read_topic_list(t, c.topics));
  GREGOR_RETURN_IF_ERROR(t.read_enum<ConsumerMode>(
      "mode", {{"assign", ConsumerMode::assign}, {"group", ConsumerMode::group}}, c.mode));
  GREGOR_RETURN_IF_ERROR(t.read("group", c.group));
  if (t.has("group") && (c.group.empty() || c.group.size() > kNameBytesMax)) {
    return t.error("group", fmt::format("a group id is 1 to {} bytes", kNameBytesMax));
  }
  GREGOR_RETURN_IF_ERROR(t.read_enum<Isolation>("isolation",
                                                {{"read_uncommitted", Isolation::read_uncommitted},
                                                 {"read_committed", Isolation::read_committed}},
                                                c.isolation));
  GREGOR_RETURN_IF_ERROR(t.read_enum<CommitPolicy>("commit",
                                                   {{"none", CommitPolicy::none},
                                                    {"after_poll", CommitPolicy::after_poll},
                                                    {"auto", CommitPolicy::automatic}},
                                                   c.commit));
  if (c.mode == ConsumerMode::group && c.group.empty()) {
    return t.error("mode", "mode = \"group\" needs a group");
  }
  if (c.commit != CommitPolicy::none && c.group.empty()) {
    return t.error("commit", "committing needs a group (committed offsets belong to one)");
  }
  if (c.commit != CommitPolicy::none && c.mode != ConsumerMode::group) {
    return t.error("commit",
                   "committing needs mode = \"group\" (assigned consumers do not commit)");
  }
  if (c.mode == ConsumerMode::assign && t.has("group")) {
    return t.error("group", "applies only with mode = \"group\"");
  }
  if (t.has("auto_commit_interval") && c.commit != CommitPolicy::automatic) {
    return t.error("auto_commit_interval", "applies only with commit = \"auto\"");
  }
  GREGOR_RETURN_IF_ERROR(t.read_duration("auto_commit_interval", nanoseconds(1), kRunLengthMax,
                                         c.auto_commit_interval));
  GREGOR_RETURN_IF_ERROR(
      t.read_enum<bool>("from", {{"earliest", true}, {"latest", false}}, c.from_beginning));
  GREGOR_RETURN_IF_ERROR(
      t.read_duration("poll_timeout", nanoseconds(1), kRunLengthMax, c.poll_timeout));
  GREGOR_RETURN_IF_ERROR(read_start(t, c.start));
  s_.consumers.push_back(std::move(c));
  return Status::Ok();
}

Status syntax_error(std::string_view file, const toml::parse_error& e) {
  const toml::source_position& p = e.source().begin;
  return errorf(Errc::invalid_argument, "{}:{}:{}: {}", file, p.line, p.column, e.description());
}

// "scenarios/smoke.toml" -> "smoke".
std::string stem(std::string_view file_name) {
  size_t slash = file_name.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  std::string_view ext = ".toml";
  if (base.size() > ext.size() && base.substr(base.size() - ext.size()) == ext) {
    base.remove_suffix(ext.size());
  }
  return std::string(base);
}

Result<Scenario> parse(std::string_view text, std::string_view file_name) {
  if (text.size() > kScenarioTextBytesMax) {
    return errorf(Errc::invalid_argument, "{}: {} bytes is over the limit of {}", file_name,
                  text.size(), kScenarioTextBytesMax);
  }
#if TOML_EXCEPTIONS
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return syntax_error(file_name, e);
  }
#else
  toml::parse_result parsed = toml::parse(text, file_name);
  if (!parsed) return syntax_error(file_name, parsed.error());
  const toml::table& root = parsed.table();
#endif
  Ctx cx{std::string(file_name)};
  return Parser(cx, root).run(stem(file_name));
}

}  // namespace

Result<Scenario> parse_scenario(std::string_view text, std::string_view file_name) {
#if defined(__cpp_exceptions)
  // toml++ and the standard library may throw (bad_alloc); no exception escapes as a crash.
  try {
    return parse(text, file_name);
  } catch (const std::exception& e) {
    return errorf(Errc::invalid_argument, "{}: {}", file_name, e.what());
  }
#else
  return parse(text, file_name);
#endif
}

}  // namespace gregor::scenario
