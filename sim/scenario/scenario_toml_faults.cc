// Reading [[fault]] and [nemesis]. Each fault kind has a rule (what it targets, whether it ends,
// its own extra field); a key another kind uses is refused as "does not apply" rather than
// ignored, so a file never says more than the run will do.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "sim/scenario/scenario_toml.h"
#include "sim/scenario/scenario_toml_internal.h"

namespace gregor::scenario::internal {

namespace {

enum class Targets : uint8_t {
  nodes,     // nodes = [...]
  groups,    // groups = [[...], [...]]
  link,      // from and to
  any_link,  // from and to, or neither (any connection)
};
enum class End : uint8_t {
  none,       // instantaneous or permanent: no `for`, no `until`
  optional,   // `for` or `until`, else undone when the fault phase ends
  needs_for,  // `for` only
};

struct KindRule {
  Targets targets = Targets::nodes;
  End end = End::optional;
  bool brokers_only = false;  // disk faults: clients have no disk
  std::string_view extra;     // the kind's own key: "lose_unsynced", "by", "ppm", or none
};

KindRule rule_of(FaultKind kind) {
  switch (kind) {
    case FaultKind::crash:
      return {Targets::nodes, End::optional, false, "lose_unsynced"};
    case FaultKind::power_loss:
    case FaultKind::pause:
    case FaultKind::refuse:
      return {Targets::nodes, End::optional, false, ""};
    case FaultKind::partition:
      return {Targets::groups, End::optional, false, ""};
    case FaultKind::one_way:
    case FaultKind::hold:
    case FaultKind::slow_link:
      return {Targets::link, End::optional, false, ""};
    case FaultKind::clog:
      return {Targets::nodes, End::needs_for, false, ""};
    case FaultKind::reset:
      return {Targets::any_link, End::none, false, ""};
    case FaultKind::disk_stall:
      return {Targets::nodes, End::needs_for, true, ""};
    case FaultKind::disk_full:
    case FaultKind::misdirect:
    case FaultKind::wipe:
      return {Targets::nodes, End::optional, true, ""};
    case FaultKind::fsync_eio:
    case FaultKind::bit_flip:
    case FaultKind::latent_read:
      return {Targets::nodes, End::none, true, ""};
    case FaultKind::clock_drift:
      return {Targets::nodes, End::optional, false, "ppm"};
    case FaultKind::clock_jump:
      return {Targets::nodes, End::none, false, "by"};
  }
  return {};
}

const std::vector<std::string_view> kFaultKeys = {
    "at", "kind", "nodes", "groups", "from", "to", "for", "until", "lose_unsynced", "by", "ppm",
};

std::vector<std::string_view> keys_of(const KindRule& rule) {
  std::vector<std::string_view> keys = {"at", "kind"};
  switch (rule.targets) {
    case Targets::nodes:
      keys.push_back("nodes");
      break;
    case Targets::groups:
      keys.push_back("groups");
      break;
    case Targets::link:
    case Targets::any_link:
      keys.insert(keys.end(), {"from", "to"});
      break;
  }
  if (rule.end != End::none) keys.push_back("for");
  if (rule.end == End::optional) keys.push_back("until");
  if (!rule.extra.empty()) keys.push_back(rule.extra);
  return keys;
}

std::vector<std::string_view> all_kind_names() {
  std::vector<std::string_view> names;
  for (int i = 0; i < kFaultKinds; ++i) names.push_back(fault_kind_name(static_cast<FaultKind>(i)));
  return names;
}

// A canonical decimal ("0", "12"; no sign, no leading zero) of at most nine digits.
std::optional<uint32_t> parse_index(std::string_view text) {
  if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

class FaultReader {
 public:
  FaultReader(const Table& t, const Universe& u, const Scenario& s) : t_(t), u_(u), s_(s) {}

  Result<FaultSpec> read() {
    FaultSpec f;
    GREGOR_RETURN_IF_ERROR(t_.check_keys(kFaultKeys));
    if (!t_.has("kind")) return t_.error_here("a fault needs a kind");
    GREGOR_RETURN_IF_ERROR(read_kind(f));
    KindRule rule = rule_of(f.kind);
    GREGOR_RETURN_IF_ERROR(check_applicable(f.kind, rule));
    if (!t_.has("at")) return t_.error_here("a fault needs `at`, the time it fires");
    GREGOR_RETURN_IF_ERROR(t_.read_duration("at", Duration::zero(), kRunLengthMax, f.at));
    if (f.at >= s_.duration) {
      return t_.error(
          "at", fmt::format("at = {} is not before duration = {}", show(f.at), show(s_.duration)));
    }
    GREGOR_RETURN_IF_ERROR(read_targets(f, rule));
    GREGOR_RETURN_IF_ERROR(read_end(f, rule));
    GREGOR_RETURN_IF_ERROR(read_extra(f, rule));
    return f;
  }

 private:
  Status read_kind(FaultSpec& f) const {
    std::string kind;
    GREGOR_RETURN_IF_ERROR(t_.read("kind", kind));
    auto k = parse_fault_kind(kind);
    if (!k) {
      return t_.error("kind", fmt::format("\"{}\" is not a fault kind{}", kind,
                                          suggestion(kind, all_kind_names(), '"')));
    }
    f.kind = *k;
    return Status::Ok();
  }

  Status check_applicable(FaultKind kind, const KindRule& rule) const {
    std::vector<std::string_view> keys = keys_of(rule);
    for (const auto& [key, node] : t_.entries()) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      std::string list;
      for (std::string_view k : keys) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      return t_.error(key, fmt::format("does not apply to kind \"{}\" (its keys: {})",
                                       fault_kind_name(kind), list));
    }
    return Status::Ok();
  }

  Status read_targets(FaultSpec& f, const KindRule& rule) const;
  Status read_end(FaultSpec& f, const KindRule& rule) const;
  Status read_extra(FaultSpec& f, const KindRule& rule) const;
  Status read_groups(FaultSpec& f) const;
  Status read_list(const toml::node& node, const std::string& path, bool brokers_only,
                   std::vector<NodeRef>& out, std::vector<NodeRef>& seen) const;
  Result<NodeRef> read_node(const toml::node& node, const std::string& path,
                            bool brokers_only) const;
  Result<NodeRef> read_controller(const toml::node& node, const std::string& path,
                                  std::string_view text) const;
  Result<NodeRef> read_leader(const toml::node& node, const std::string& path,
                              std::string_view partition) const;
  Result<NodeRef> read_replica(const toml::node& node, const std::string& path,
                               std::string_view text) const;
  Result<std::string> read_partition(const toml::node& node, const std::string& path,
                                     std::string_view tp, std::string_view form) const;

  const Table& t_;
  const Universe& u_;
  const Scenario& s_;
};

Status FaultReader::read_targets(FaultSpec& f, const KindRule& rule) const {
  std::vector<NodeRef> seen;
  switch (rule.targets) {
    case Targets::nodes: {
      const toml::node* nodes = t_.find("nodes");
      if (nodes == nullptr) return t_.error_here("needs `nodes`, the nodes it hits");
      return read_list(*nodes, t_.path_of("nodes"), rule.brokers_only, f.nodes, seen);
    }
    case Targets::groups:
      return read_groups(f);
    case Targets::link:
    case Targets::any_link:
      break;
  }
  const toml::node* from = t_.find("from");
  const toml::node* to = t_.find("to");
  if (rule.targets == Targets::any_link && from == nullptr && to == nullptr) return Status::Ok();
  if (from == nullptr || to == nullptr) {
    return t_.error_here(rule.targets == Targets::link
                             ? "needs `from` and `to`, the two ends of the link"
                             : "needs both `from` and `to`, or neither (any connection)");
  }
  auto a = read_node(*from, t_.path_of("from"), false);
  if (!a.ok()) return a.status();
  auto b = read_node(*to, t_.path_of("to"), false);
  if (!b.ok()) return b.status();
  if (*a == *b) return t_.error("to", "is the same node as `from`");
  f.from = *a;
  f.to = *b;
  return Status::Ok();
}

// At least two non-empty sides, no node on two sides.
Status FaultReader::read_groups(FaultSpec& f) const {
  const toml::array* groups = nullptr;
  GREGOR_RETURN_IF_ERROR(t_.read_array("groups", groups));
  if (groups == nullptr) return t_.error_here("needs `groups`, the sides of the partition");
  if (groups->size() < 2) return t_.error("groups", "a partition needs two or more groups");
  std::vector<NodeRef> seen;
  for (size_t i = 0; i < groups->size(); ++i) {
    const toml::node& group = *groups->get(i);
    std::string path = fmt::format("{}[{}]", t_.path_of("groups"), i + 1);
    if (!group.is_array()) {
      return t_.cx().at(
          group, path,
          fmt::format("expected an array of nodes, got {}", toml_type_name(group.type())));
    }
    if (group.as_array()->empty()) return t_.cx().at(group, path, "an empty group");
    f.groups.emplace_back();
    GREGOR_RETURN_IF_ERROR(read_list(group, path, false, f.groups.back(), seen));
  }
  return Status::Ok();
}

// An array of nodes (or one node alone), none of them in `seen` yet.
Status FaultReader::read_list(const toml::node& node, const std::string& path, bool brokers_only,
                              std::vector<NodeRef>& out, std::vector<NodeRef>& seen) const {
  std::vector<std::pair<const toml::node*, std::string>> items;
  if (const toml::array* array = node.as_array()) {
    if (array->empty()) return t_.cx().at(node, path, "no nodes listed");
    for (size_t i = 0; i < array->size(); ++i) {
      items.emplace_back(array->get(i), fmt::format("{}[{}]", path, i + 1));
    }
  } else {
    items.emplace_back(&node, path);
  }
  for (const auto& [item, item_path] : items) {
    auto ref = read_node(*item, item_path, brokers_only);
    if (!ref.ok()) return ref.status();
    if (std::find(seen.begin(), seen.end(), *ref) != seen.end()) {
      return t_.cx().at(*item, item_path,
                        fmt::format("node {} is listed twice", node_ref_text(*ref)));
    }
    seen.push_back(*ref);
    out.push_back(std::move(*ref));
  }
  return Status::Ok();
}

Result<NodeRef> FaultReader::read_node(const toml::node& node, const std::string& path,
                                       bool brokers_only) const {
  const Ctx& cx = t_.cx();
  std::string forms = fmt::format(
      "a node is a broker (1..{}), \"leader:TOPIC-PARTITION\", "
      "\"replica:TOPIC-PARTITION#K\", \"controller-K\", \"controller:active\" or a client name",
      u_.brokers);
  std::optional<int64_t> broker;
  if (node.is_integer()) broker = node.as_integer()->get();
  std::string_view text = node.is_string() ? node.as_string()->get() : std::string_view();
  if (!node.is_integer() && !node.is_string()) {
    return cx.at(node, path,
                 fmt::format("expected a node, got {}; {}", toml_type_name(node.type()), forms));
  }
  if (text.substr(0, 7) == "broker-") {
    if (auto n = parse_index(text.substr(7))) broker = *n;
  }
  if (broker) {
    if (*broker < 1 || *broker > u_.brokers) {
      return cx.at(
          node, path,
          fmt::format("broker {} does not exist (brokers are 1..{})", *broker, u_.brokers));
    }
    return NodeRef{NodeRef::Kind::broker, static_cast<uint32_t>(*broker), ""};
  }
  if (text.substr(0, 7) == "leader:") return read_leader(node, path, text.substr(7));
  if (text.substr(0, 8) == "replica:") return read_replica(node, path, text.substr(8));
  if (text == "controller:active" || text.substr(0, 11) == "controller-")
    return read_controller(node, path, text);
  if (brokers_only) {
    return cx.at(node, path,
                 fmt::format("\"{}\" is not a broker, and this kind hits brokers' "
                             "disks only",
                             text));
  }
  if (u_.clients.count(text) != 0) return NodeRef{NodeRef::Kind::client, 0, std::string(text)};
  std::vector<std::string_view> clients(u_.clients.begin(), u_.clients.end());
  return cx.at(node, path,
               fmt::format("no client \"{}\"{}; {}", text, suggestion(text, clients, '"'), forms));
}

// "controller:active" (with a quorum) or "controller-K" (a dedicated controller, 1..controllers).
Result<NodeRef> FaultReader::read_controller(const toml::node& node, const std::string& path,
                                             std::string_view text) const {
  const Ctx& cx = t_.cx();
  if (u_.controllers == 0) {
    return cx.at(
        node, path,
        fmt::format("\"{}\" needs a controller quorum ([cluster] controllers = 1, 3 or 5)", text));
  }
  if (text == "controller:active") return NodeRef{NodeRef::Kind::active_controller, 0, ""};
  std::optional<uint32_t> k = parse_index(text.substr(11));
  if (!u_.dedicated_controllers) {
    return cx.at(node, path,
                 fmt::format("\"{}\": the controllers are combined with brokers 1..{}; name them "
                             "by broker, or set dedicated_controllers = true",
                             text, u_.controllers));
  }
  if (!k || *k < 1 || *k > u_.controllers) {
    return cx.at(node, path,
                 fmt::format("\"{}\" does not exist (controllers are controller-1..controller-{})",
                             text, u_.controllers));
  }
  return NodeRef{NodeRef::Kind::controller, *k, ""};
}

// "TOPIC-PARTITION" or "TOPIC/PARTITION" after "leader:": a declared topic and one of its
// partitions. Both spellings name the same NodeRef ("topic-partition", Kafka's own notation); the
// slash cannot occur in a topic name, so "leader:my-topic/0" reads without guessing.
Result<NodeRef> FaultReader::read_leader(const toml::node& node, const std::string& path,
                                         std::string_view tp) const {
  auto name = read_partition(node, path, tp, "leader:");
  if (!name.ok()) return name.status();
  return NodeRef{NodeRef::Kind::leader, 0, std::move(*name)};
}

// "TOPIC-PARTITION#K" or "TOPIC/PARTITION#K" after "replica:": the K-th (1-based) broker of the
// partition's replica list as the metadata image holds it when the fault fires. The list is
// fixed at creation (no reassignment), so K names one broker for the whole run whatever the
// placement; whether it leads or follows then depends on the run. K is bounded by the brokers
// here (the replication factor may come from a default); a K past the list resolves to nobody
// and the fault is skipped.
Result<NodeRef> FaultReader::read_replica(const toml::node& node, const std::string& path,
                                          std::string_view text) const {
  const Ctx& cx = t_.cx();
  size_t hash = text.rfind('#');
  std::optional<uint32_t> k;
  if (hash != std::string_view::npos) k = parse_index(text.substr(hash + 1));
  if (!k) {
    return cx.at(node, path,
                 fmt::format("\"replica:{}\" is not replica:TOPIC-PARTITION#K or "
                             "replica:TOPIC/PARTITION#K (e.g. \"replica:events-0#2\", the "
                             "second broker of the partition's replica list)",
                             text));
  }
  if (*k < 1 || *k > u_.brokers) {
    return cx.at(node, path,
                 fmt::format("\"replica:{}\": K must be 1..{} (a replica list holds at most "
                             "one entry per broker)",
                             text, u_.brokers));
  }
  auto name = read_partition(node, path, text.substr(0, hash), "replica:");
  if (!name.ok()) return name.status();
  return NodeRef{NodeRef::Kind::replica, *k, std::move(*name)};
}

// "topic-partition" from TOPIC-PARTITION or TOPIC/PARTITION, checked against the declared
// topics; `form` ("leader:", "replica:") names the reference in messages.
Result<std::string> FaultReader::read_partition(const toml::node& node, const std::string& path,
                                                std::string_view tp, std::string_view form) const {
  const Ctx& cx = t_.cx();
  size_t cut = tp.find('/');
  if (cut == std::string_view::npos) cut = tp.rfind('-');
  std::optional<uint32_t> partition;
  if (cut != std::string_view::npos) partition = parse_index(tp.substr(cut + 1));
  if (cut == std::string_view::npos || cut == 0 || !partition) {
    std::string_view tail = form == "replica:" ? "#K" : "";
    return cx.at(node, path,
                 fmt::format("\"{0}{1}\" is not {0}TOPIC-PARTITION{2} or {0}TOPIC/PARTITION{2} "
                             "(e.g. \"{0}events-0{3}\")",
                             form, tp, tail, form == "replica:" ? "#2" : ""));
  }
  std::string_view topic = tp.substr(0, cut);
  auto it = u_.topics.find(topic);
  if (it == u_.topics.end()) {
    std::vector<std::string_view> known;
    for (const auto& [name, partitions] : u_.topics) known.push_back(name);
    return cx.at(node, path,
                 fmt::format("topic \"{}\" is not declared in a [[topic]]{}", topic,
                             suggestion(topic, known, '"')));
  }
  if (*partition >= static_cast<uint32_t>(it->second)) {
    return cx.at(
        node, path,
        fmt::format("topic \"{}\" has no partition {} (it has {})", topic, *partition, it->second));
  }
  return fmt::format("{}-{}", topic, *partition);
}

Status FaultReader::read_end(FaultSpec& f, const KindRule& rule) const {
  if (rule.end == End::none) return Status::Ok();  // `for` and `until` were refused already
  if (t_.has("for") && t_.has("until")) return t_.error("until", "give `for` or `until`, not both");
  if (t_.has("for")) {
    Duration d{};
    GREGOR_RETURN_IF_ERROR(t_.read_duration("for", nanoseconds(1), kRunLengthMax, d));
    f.duration = d;
  }
  if (rule.end == End::needs_for && !f.duration) {
    return t_.error_here(
        fmt::format("a {} fault needs `for`, how long it lasts", fault_kind_name(f.kind)));
  }
  if (!t_.has("until")) return Status::Ok();
  GREGOR_RETURN_IF_ERROR(t_.read("until", f.until));
  if (f.until == "heal") return Status::Ok();
  std::string_view u = f.until;
  std::optional<uint32_t> broker;
  if (u.substr(0, 8) == "restart ") broker = parse_index(u.substr(8));
  if (!broker) {
    return t_.error("until", fmt::format("\"{}\" is not \"heal\" or \"restart N\"", f.until));
  }
  if (*broker < 1 || *broker > u_.brokers) {
    return t_.error(
        "until", fmt::format("broker {} does not exist (brokers are 1..{})", *broker, u_.brokers));
  }
  return Status::Ok();
}

Status FaultReader::read_extra(FaultSpec& f, const KindRule& rule) const {
  if (rule.extra == "lose_unsynced") return t_.read("lose_unsynced", f.lose_unsynced);
  if (rule.extra == "by") {
    if (!t_.has("by"))
      return t_.error_here("a clock_jump needs `by`, a signed duration (\"+30s\")");
    GREGOR_RETURN_IF_ERROR(t_.read_duration("by", -kClockJumpMax, kClockJumpMax, f.by));
    if (f.by == Duration::zero()) return t_.error("by", "a jump of 0s does nothing");
  }
  if (rule.extra == "ppm") {
    if (!t_.has("ppm")) return t_.error_here("a clock_drift needs `ppm`, the rate error");
    GREGOR_RETURN_IF_ERROR(t_.read_int("ppm", -kClockDriftPpmMax, kClockDriftPpmMax, f.ppm));
    if (f.ppm == 0) return t_.error("ppm", "a drift of 0 ppm does nothing");
  }
  return Status::Ok();
}

// interval = ["500ms", "3s"]: positive, in order.
Status read_range(const Table& t, std::string_view key, Duration& min, Duration& max) {
  const toml::array* array = nullptr;
  GREGOR_RETURN_IF_ERROR(t.read_array(key, array));
  if (array == nullptr) return Status::Ok();
  if (array->size() != 2) {
    return t.error(key, fmt::format("expected [MIN, MAX], got {} values", array->size()));
  }
  Duration bounds[2];
  for (size_t i = 0; i < 2; ++i) {
    const toml::node& item = *array->get(i);
    std::string path = fmt::format("{}[{}]", t.path_of(key), i + 1);
    if (!item.is_string()) {
      return t.cx().at(item, path,
                       fmt::format("expected a duration string such as \"3s\", got {}",
                                   toml_type_name(item.type())));
    }
    auto d = parse_duration_text(item.as_string()->get());
    if (!d.ok()) return t.cx().at(item, path, d.status().message());
    if (*d <= Duration::zero() || *d > kRunLengthMax) {
      return t.cx().at(item, path,
                       fmt::format("{} is outside (0s, {}]", show(*d), show(kRunLengthMax)));
    }
    bounds[i] = *d;
  }
  if (bounds[0] > bounds[1]) {
    return t.error(key, fmt::format("MIN {} is above MAX {}", show(bounds[0]), show(bounds[1])));
  }
  min = bounds[0];
  max = bounds[1];
  return Status::Ok();
}

// families = "all" (stored as the empty list) or a list of distinct kind names.
Status read_families(const Table& t, std::vector<FaultKind>& families) {
  const toml::node* node = t.find("families");
  if (node == nullptr) return Status::Ok();
  if (node->is_string() && node->as_string()->get() == "all") return Status::Ok();
  const toml::array* array = node->as_array();
  if (array == nullptr || array->empty()) {
    return t.error("families", "expected \"all\" or a non-empty list of fault kinds");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    std::string path = fmt::format("{}[{}]", t.path_of("families"), i + 1);
    std::string_view name = item.is_string() ? item.as_string()->get() : std::string_view();
    auto kind = parse_fault_kind(name);
    if (!kind) {
      return t.cx().at(item, path,
                       fmt::format("\"{}\" is not a fault kind{}", name,
                                   suggestion(name, all_kind_names(), '"')));
    }
    if (std::find(families.begin(), families.end(), *kind) != families.end()) {
      return t.cx().at(item, path, fmt::format("\"{}\" is listed twice", name));
    }
    families.push_back(*kind);
  }
  return Status::Ok();
}

}  // namespace

Status read_faults(const Table& root, const Universe& universe, Scenario& s) {
  const toml::node* node = root.find("fault");
  if (node == nullptr) return Status::Ok();
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return root.error("fault", fmt::format("expected an array of tables ([[fault]]), got {}",
                                           toml_type_name(node->type())));
  }
  if (array->size() > kTimelineEntriesMax) {
    return root.error("fault", fmt::format("{} faults is over the limit of {}", array->size(),
                                           kTimelineEntriesMax));
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    std::string path = fmt::format("fault[{}]", i + 1);
    if (!item.is_table()) {
      return root.cx().at(item, path,
                          fmt::format("expected a table, got {}", toml_type_name(item.type())));
    }
    Table t(root.cx(), *item.as_table(), path);
    auto fault = FaultReader(t, universe, s).read();
    if (!fault.ok()) return fault.status();
    s.timeline.push_back(std::move(*fault));
  }
  return Status::Ok();
}

Status read_nemesis(const Table& root, Scenario& s) {
  const toml::table* table = nullptr;
  GREGOR_RETURN_IF_ERROR(root.read_table("nemesis", table));
  if (table == nullptr) return Status::Ok();
  Table t(root.cx(), *table, "nemesis");
  GREGOR_RETURN_IF_ERROR(
      t.check_keys({"enabled", "families", "swarm", "interval", "fault_duration"}));
  NemesisSpec n;
  n.enabled = true;  // writing a [nemesis] table turns it on unless it says otherwise
  GREGOR_RETURN_IF_ERROR(t.read("enabled", n.enabled));
  GREGOR_RETURN_IF_ERROR(read_families(t, n.families));
  GREGOR_RETURN_IF_ERROR(t.read("swarm", n.swarm));
  GREGOR_RETURN_IF_ERROR(read_range(t, "interval", n.interval_min, n.interval_max));
  GREGOR_RETURN_IF_ERROR(
      read_range(t, "fault_duration", n.fault_duration_min, n.fault_duration_max));
  s.nemesis = std::move(n);
  return Status::Ok();
}

}  // namespace gregor::scenario::internal
