// `gregor groups list | describe`: Gregor's Admin client (ListGroups, FindCoordinator,
// DescribeGroups, OffsetFetch) and its Consumer (ListOffsets for the log end offsets) on the
// production backends, printing what kafka-consumer-groups.sh --list / --describe print.
#include "cli/groups_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/client_runtime.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "disk/disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "node/kafka/consumer_protocol.h"

namespace gregor::cli {
namespace {

using client::TopicPartition;
using kafka::ErrorCode;
using json = nlohmann::ordered_json;

// How long group lookups are retried while the coordinator says it is loading or moving, and how
// long to wait between tries.
constexpr Duration kRetryFor = seconds(15);
constexpr Duration kRetryBackoff = milliseconds(250);

struct GroupsArgs {
  std::string bootstrap;
  std::vector<std::string> groups;
  bool all_groups = false;
  bool json = false;
};

int fail(const std::string& message) {
  std::cerr << "gregor groups: " << message << "\n";
  return 1;
}

// --- list ---------------------------------------------------------------------------------------

int groups_list(Runtime& rt, client::Admin& admin, const GroupsArgs& args) {
  auto listed = rt.await<std::vector<client::ListedGroup>>(
      [&](auto done) { admin.list_groups(std::move(done)); });
  if (!listed.ok()) return fail(listed.status().message());
  if (args.json) {
    json out = {{"groups", json::array()}};
    for (auto& g : *listed) {
      out["groups"].push_back({{"group", g.group_id},
                               {"protocol_type", g.protocol_type},
                               {"coordinator", g.coordinator}});
    }
    std::cout << out.dump() << "\n";
  } else {
    for (auto& g : *listed) std::cout << g.group_id << "\n";
  }
  return 0;
}

// --- describe -----------------------------------------------------------------------------------

bool retriable(ErrorCode e) {
  return e == ErrorCode::coordinator_load_in_progress ||
         e == ErrorCode::coordinator_not_available || e == ErrorCode::not_coordinator;
}

// Calls `start` until its answer has no retriable group error or kRetryFor passed.
template <typename T, typename Retry>
Result<T> with_retries(Runtime& rt,
                       const std::function<void(std::function<void(Result<T>)>)>& start,
                       Retry needs_retry) {
  MonoTime deadline = rt.env().clock.now() + kRetryFor;
  while (true) {
    Result<T> r = rt.await<T>(start);
    if (!r.ok() || !needs_retry(*r) || rt.env().clock.now() >= deadline) return r;
    rt.sleep(kRetryBackoff);
  }
}

struct MemberView {
  const client::GroupMember* member = nullptr;
  std::vector<TopicPartition> partitions;
  std::string decode_error;  // the assignment did not decode
};

struct GroupView {
  client::GroupDescription description;
  std::string error;  // why the group cannot be shown
  std::vector<MemberView> members;
  std::map<TopicPartition, int64_t> committed;
};

std::vector<MemberView> member_views(const client::GroupDescription& d) {
  std::vector<MemberView> out;
  for (const client::GroupMember& m : d.members) {
    MemberView v{&m, {}, {}};
    // Empty: nothing assigned yet (a rebalance), or a leader that assigned it nothing.
    if (d.protocol_type == kafka::kConsumerProtocolType && !m.assignment.empty()) {
      auto a = kafka::decode_assignment(m.assignment);
      if (!a.ok()) {
        v.decode_error = a.status().message();
      } else {
        for (auto& tps : a->partitions) {
          for (int32_t p : tps.partitions) v.partitions.push_back({tps.topic, p});
        }
        std::sort(v.partitions.begin(), v.partitions.end());
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string describe_error(const client::GroupDescription& d) {
  if (!d.ok()) {
    return fmt::format(
        "group {}: {}{}", d.group_id, kafka::error_name(d.error),
        d.message.empty() || d.message == kafka::error_name(d.error) ? "" : ": " + d.message);
  }
  if (d.state == "Dead") return fmt::format("Consumer group '{}' does not exist.", d.group_id);
  return "";
}

std::vector<GroupView> describe_all(Runtime& rt, client::Admin& admin,
                                    const std::vector<std::string>& names, Status& failure) {
  auto described = with_retries<std::vector<client::GroupDescription>>(
      rt, [&](auto done) { admin.describe_groups(names, std::move(done)); },
      [](const std::vector<client::GroupDescription>& ds) {
        return std::any_of(ds.begin(), ds.end(), [](auto& d) { return retriable(d.error); });
      });
  if (!described.ok()) {
    failure = described.status();
    return {};
  }
  std::vector<GroupView> views;
  for (auto& d : *described) {
    GroupView v;
    v.description = d;
    v.error = describe_error(d);
    if (v.error.empty()) {
      v.members = member_views(v.description);
      auto offsets = with_retries<client::GroupOffsets>(
          rt, [&](auto done) { admin.list_group_offsets(d.group_id, std::move(done)); },
          [](const client::GroupOffsets& o) { return retriable(o.error); });
      if (!offsets.ok()) {
        failure = offsets.status();
        return {};
      }
      if (!offsets->ok()) {
        v.error = fmt::format("group {}: offsets: {}", d.group_id, offsets->message);
      }
      for (auto& [tp, c] : offsets->offsets) {
        if (c.error == ErrorCode::none && c.offset >= 0) v.committed[tp] = c.offset;
      }
    }
    views.push_back(std::move(v));
  }
  return views;
}

// ListOffsets (latest) for every partition shown; empty with a warning when that fails.
std::map<TopicPartition, int64_t> log_end_offsets(Runtime& rt, const GroupsArgs& args,
                                                  const std::vector<GroupView>& views) {
  std::set<TopicPartition> all;
  for (auto& v : views) {
    for (auto& [tp, o] : v.committed) all.insert(tp);
    for (auto& m : v.members) all.insert(m.partitions.begin(), m.partitions.end());
  }
  if (all.empty()) return {};
  client::ConsumerConfig config;
  config.bootstrap_servers = {args.bootstrap};
  config.client_id = "gregor-groups";
  config.allow_auto_create_topics = false;
  config.default_api_timeout_ms = kRetryFor;
  client::Consumer consumer(rt.env(), config);
  auto ends = rt.await<std::map<TopicPartition, int64_t>>([&](auto done) {
    consumer.end_offsets(std::vector<TopicPartition>(all.begin(), all.end()), std::move(done));
  });
  consumer.close();
  if (!ends.ok()) {
    std::cerr << "gregor groups: no log end offsets: " << ends.status().message() << "\n";
    return {};
  }
  return std::move(ends).value();
}

// One row of the partition table: a partition assigned or with a committed offset.
struct PartitionRow {
  TopicPartition tp;
  std::optional<int64_t> current;
  std::optional<int64_t> log_end;
  const MemberView* owner = nullptr;
  std::optional<int64_t> lag() const {
    if (!current || !log_end) return std::nullopt;
    return std::max<int64_t>(0, *log_end - *current);
  }
};

std::vector<PartitionRow> partition_rows(const GroupView& v,
                                         const std::map<TopicPartition, int64_t>& ends) {
  std::map<TopicPartition, PartitionRow> rows;
  for (auto& [tp, o] : v.committed) rows[tp].current = o;
  for (auto& m : v.members) {
    for (auto& tp : m.partitions) rows[tp].owner = &m;
  }
  std::vector<PartitionRow> out;
  for (auto& [tp, row] : rows) {
    row.tp = tp;
    if (auto it = ends.find(tp); it != ends.end()) row.log_end = it->second;
    out.push_back(row);
  }
  return out;
}

std::string assignment_text(const std::vector<TopicPartition>& partitions) {
  std::string out;
  std::string topic;
  for (auto& tp : partitions) {
    if (tp.topic != topic || out.empty()) {
      if (!out.empty()) out += "),";
      out += tp.topic + "(";
      topic = tp.topic;
    } else {
      out += ",";
    }
    out += std::to_string(tp.partition);
  }
  return out.empty() ? "-" : out + ")";
}

// Prints rows as columns separated by two spaces, each as wide as its widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string or_dash(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : "-";
}

std::string coordinator_text(client::Admin& admin, int32_t node) {
  auto address = admin.metadata().broker_address(node);
  return address ? fmt::format("{} ({})", address->to_string(), node) : fmt::format("({})", node);
}

void print_text(client::Admin& admin, const GroupView& v,
                const std::map<TopicPartition, int64_t>& ends) {
  const client::GroupDescription& d = v.description;
  print_table(
      {{"GROUP", "COORDINATOR (ID)", "PROTOCOL-TYPE", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"},
       {d.group_id, coordinator_text(admin, d.coordinator),
        d.protocol_type.empty() ? "-" : d.protocol_type, d.protocol.empty() ? "-" : d.protocol,
        d.state, std::to_string(d.members.size())}});
  std::cout << "\n";
  if (d.members.empty()) {
    std::cout << fmt::format("Consumer group '{}' has no active members.\n\n", d.group_id);
  } else {
    if (d.state != "Stable") {
      std::cout << fmt::format("Warning: Consumer group '{}' is rebalancing.\n\n", d.group_id);
    }
    std::vector<std::vector<std::string>> rows = {
        {"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"}};
    for (auto& m : v.members) {
      rows.push_back({d.group_id, m.member->member_id, m.member->client_host, m.member->client_id,
                      std::to_string(m.partitions.size()),
                      m.decode_error.empty() ? assignment_text(m.partitions)
                                             : "undecodable: " + m.decode_error});
    }
    print_table(rows);
    std::cout << "\n";
  }
  std::vector<std::vector<std::string>> rows = {{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
                                                 "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                                                 "CLIENT-ID"}};
  for (auto& r : partition_rows(v, ends)) {
    rows.push_back(
        {d.group_id, r.tp.topic, std::to_string(r.tp.partition), or_dash(r.current),
         or_dash(r.log_end), or_dash(r.lag()), r.owner ? r.owner->member->member_id : "-",
         r.owner ? r.owner->member->client_host : "-", r.owner ? r.owner->member->client_id : "-"});
  }
  print_table(rows);
}

json or_null(const std::optional<int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}

json to_json(const GroupView& v, const std::map<TopicPartition, int64_t>& ends) {
  const client::GroupDescription& d = v.description;
  json g = {{"group", d.group_id}};
  if (!v.error.empty()) {
    g["error"] = v.error;
    return g;
  }
  g["state"] = d.state;
  g["protocol_type"] = d.protocol_type;
  g["protocol"] = d.protocol;
  g["coordinator"] = d.coordinator;
  g["members"] = json::array();
  for (auto& m : v.members) {
    json parts = json::array();
    for (auto& tp : m.partitions)
      parts.push_back({{"topic", tp.topic}, {"partition", tp.partition}});
    json member = {{"member_id", m.member->member_id},
                   {"client_id", m.member->client_id},
                   {"host", m.member->client_host},
                   {"assignment", parts}};
    if (!m.decode_error.empty()) member["assignment_error"] = m.decode_error;
    g["members"].push_back(member);
  }
  g["offsets"] = json::array();
  for (auto& r : partition_rows(v, ends)) {
    g["offsets"].push_back({{"topic", r.tp.topic},
                            {"partition", r.tp.partition},
                            {"current_offset", or_null(r.current)},
                            {"log_end_offset", or_null(r.log_end)},
                            {"lag", or_null(r.lag())},
                            {"consumer_id", r.owner ? json(r.owner->member->member_id) : json()},
                            {"host", r.owner ? json(r.owner->member->client_host) : json()},
                            {"client_id", r.owner ? json(r.owner->member->client_id) : json()}});
  }
  return g;
}

int groups_describe(Runtime& rt, client::Admin& admin, const GroupsArgs& args) {
  std::vector<std::string> names = args.groups;
  if (args.all_groups) {
    auto listed = rt.await<std::vector<client::ListedGroup>>(
        [&](auto done) { admin.list_groups(std::move(done)); });
    if (!listed.ok()) return fail(listed.status().message());
    for (auto& g : *listed) names.push_back(g.group_id);
  }
  Status failure = Status::Ok();
  std::vector<GroupView> views;
  if (!names.empty()) views = describe_all(rt, admin, names, failure);
  if (!failure.ok()) return fail(failure.message());
  auto ends = log_end_offsets(rt, args, views);
  int status = 0;
  json out = {{"groups", json::array()}};
  bool first = true;
  for (auto& v : views) {
    if (!v.error.empty()) status = fail(v.error);
    if (args.json) {
      out["groups"].push_back(to_json(v, ends));
    } else if (v.error.empty()) {
      if (!first) std::cout << "\n";
      first = false;
      print_text(admin, v, ends);
    }
  }
  if (args.json) std::cout << out.dump() << "\n";
  return status;
}

int groups(const std::string& action, const GroupsArgs& args) {
  client::AdminConfig config;
  config.bootstrap_servers = {args.bootstrap};
  config.client_id = "gregor-groups";
  if (Status s = client::validate(config); !s.ok()) throw CLI::ValidationError(s.message());
  if (action == "describe" && args.groups.empty() && !args.all_groups) {
    throw CLI::ValidationError("describe needs GROUP... or --all-groups");
  }
  auto rt = Runtime::create("gregor-groups");
  if (!rt.ok()) return fail(rt.status().message());
  client::Admin admin((*rt)->env(), config);
  int status =
      action == "list" ? groups_list(**rt, admin, args) : groups_describe(**rt, admin, args);
  admin.close();
  return status;
}

}  // namespace

void add_groups_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<GroupsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "groups", "List and describe consumer groups: members, assignments, offsets and lag");
  cmd->add_option("--bootstrap-server", args->bootstrap, "A broker, HOST:PORT")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of tables");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "Every group of every broker, one id per line");
  CLI::App* describe = cmd->add_subcommand(
      "describe", "State, members, assignments, committed offsets, log end offsets and lag");
  auto* names = describe->add_option("groups", args->groups, "Group ids");
  describe->add_flag("--all-groups", args->all_groups, "Every group ListGroups names")
      ->excludes(names);
  for (CLI::App* sub : {list, describe}) {
    sub->fallthrough();  // --bootstrap-server and --json may also follow the action
    sub->callback([args, exit_code, name = sub->get_name()] { *exit_code = groups(name, *args); });
  }
}

}  // namespace gregor::cli
