// Writing a scenario as TOML. The reader's defaults decide what is left out: a key is written
// when it differs from what reading the file without it would give, and always for the fields a
// reader looks for first (names, counts, topics, rates, acks, kinds, times). The output must parse
// back to the same Scenario (scenario_toml_test.cc checks it as a property).
#include <fmt/format.h>

#include <charconv>

#include "sim/scenario/scenario_toml.h"

namespace gregor::scenario {

namespace {

std::string quote(std::string_view s) {
  return toml_quote(s);
}

std::string duration(Duration d) {
  return quote(format_duration_toml(d));
}

std::string node(const NodeRef& r) {
  return r.kind == NodeRef::Kind::broker ? fmt::format("{}", r.broker) : quote(node_ref_text(r));
}

std::string node_list(const std::vector<NodeRef>& nodes) {
  std::string out;
  for (const NodeRef& r : nodes) out += (out.empty() ? "" : ", ") + node(r);
  return "[" + out + "]";
}

std::string string_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + quote(s);
  return "[" + out + "]";
}

// A topic config value: a canonical integer bare, anything else as a string (both read back as
// the same text).
std::string config_value(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  bool integer =
      ec == std::errc() && end == text.data() + text.size() && fmt::format("{}", v) == text;
  return integer ? text : quote(text);
}

std::string_view acks_text(Acks acks) {
  switch (acks) {
    case Acks::none:
      return "0";
    case Acks::leader:
      return "1";
    case Acks::all:
      break;
  }
  return "all";
}

void write_header(const Scenario& s, std::string& out) {
  out += "# A Gregor scenario; the format is described in scenarios/README.md.\n";
  out += fmt::format("name = {}\n", quote(s.name));
  if (!s.description.empty()) out += fmt::format("description = {}\n", quote(s.description));
  // TOML integers stop at INT64_MAX; larger seeds are written as strings of digits.
  if (s.seed <= static_cast<uint64_t>(INT64_MAX)) {
    out += fmt::format("seed = {}\n", s.seed);
  } else {
    out += fmt::format("seed = \"{}\"\n", s.seed);
  }
  out += fmt::format("duration = {}\n", duration(s.duration));
  out += fmt::format("mode = \"{}\"\n", s.mode == Mode::liveness ? "liveness" : "safety");
  out += fmt::format("recovery = {}\n", duration(s.recovery));
  out += fmt::format("expect = {}\n", quote(s.expect));
  if (!s.buggify) out += "buggify = false\n";
}

void write_cluster(const Scenario& s, std::string& out) {
  out += fmt::format("\n[cluster]\nbrokers = {}\ncontrollers = {}\n", s.brokers, s.controllers);
  if (s.dedicated_controllers) out += "dedicated_controllers = true\n";
  if (s.bugs != BugSwitches{}) {
    out += fmt::format("bugs = {{ ack_before_append = {} }}\n", s.bugs.ack_before_append);
  }
  if (!s.broker_config.empty()) out += "\n[cluster.config]\n" + broker_config_toml(s);
}

void write_topic(const TopicSpec& t, std::string& out) {
  out += fmt::format("\n[[topic]]\nname = {}\npartitions = {}\nreplication_factor = {}\n",
                     quote(t.name), t.partitions, t.replication_factor);
  if (t.config.empty()) return;
  std::string items;
  for (const auto& [key, value] : t.config) {
    items += fmt::format("{}{} = {}", items.empty() ? "" : ", ", quote(key), config_value(value));
  }
  out += fmt::format("config = {{ {} }}\n", items);
}

void write_producer(const ProducerSpec& p, std::string& out) {
  const ProducerSpec d;
  out += fmt::format("\n[[producer]]\nname = {}\ncount = {}\ntopic = {}\nrate = {}\n",
                     quote(p.name), p.count, quote(p.topic), p.rate);
  if (p.records != d.records) out += fmt::format("records = {}\n", p.records);
  if (p.keys != d.keys) out += fmt::format("keys = {}\n", p.keys);
  out += fmt::format("acks = \"{}\"\nidempotence = {}\n", acks_text(p.acks), p.idempotence);
  if (p.max_in_flight != d.max_in_flight)
    out += fmt::format("max_in_flight = {}\n", p.max_in_flight);
  if (p.value_bytes != d.value_bytes) out += fmt::format("value_bytes = {}\n", p.value_bytes);
  if (p.linger != d.linger) out += fmt::format("linger = {}\n", duration(p.linger));
  if (p.start != d.start) out += fmt::format("start = {}\n", duration(p.start));
}

void write_consumer(const ConsumerSpec& c, std::string& out) {
  const ConsumerSpec d;
  out += fmt::format("\n[[consumer]]\nname = {}\ncount = {}\ntopics = {}\nmode = \"{}\"\n",
                     quote(c.name), c.count, string_list(c.topics),
                     c.mode == ConsumerMode::group ? "group" : "assign");
  if (!c.group.empty()) out += fmt::format("group = {}\n", quote(c.group));
  if (c.isolation != d.isolation) out += "isolation = \"read_committed\"\n";
  switch (c.commit) {
    case CommitPolicy::none:
      break;
    case CommitPolicy::after_poll:
      out += "commit = \"after_poll\"\n";
      break;
    case CommitPolicy::automatic:
      out += fmt::format("commit = \"auto\"\nauto_commit_interval = {}\n",
                         duration(c.auto_commit_interval));
      break;
  }
  if (!c.from_beginning) out += "from = \"latest\"\n";
  if (c.poll_timeout != d.poll_timeout) {
    out += fmt::format("poll_timeout = {}\n", duration(c.poll_timeout));
  }
  if (c.start != d.start) out += fmt::format("start = {}\n", duration(c.start));
}

void write_fault(const FaultSpec& f, std::string& out) {
  out +=
      fmt::format("\n[[fault]]\nat = {}\nkind = \"{}\"\n", duration(f.at), fault_kind_name(f.kind));
  if (!f.nodes.empty()) out += fmt::format("nodes = {}\n", node_list(f.nodes));
  if (!f.groups.empty()) {
    std::string groups;
    for (const auto& g : f.groups) groups += (groups.empty() ? "" : ", ") + node_list(g);
    out += fmt::format("groups = [{}]\n", groups);
  }
  if (f.from) out += fmt::format("from = {}\n", node(*f.from));
  if (f.to) out += fmt::format("to = {}\n", node(*f.to));
  if (f.duration) out += fmt::format("for = {}\n", duration(*f.duration));
  if (!f.until.empty()) out += fmt::format("until = {}\n", quote(f.until));
  if (f.kind == FaultKind::crash && !f.lose_unsynced) out += "lose_unsynced = false\n";
  if (f.kind == FaultKind::clock_jump) {
    std::string by = format_duration_toml(f.by);
    out += fmt::format("by = \"{}{}\"\n", f.by > Duration::zero() ? "+" : "", by);
  }
  if (f.kind == FaultKind::clock_drift) out += fmt::format("ppm = {}\n", f.ppm);
}

void write_nemesis(const NemesisSpec& n, std::string& out) {
  if (n == NemesisSpec{}) return;
  // The list wraps under its first item to stay within 100 columns.
  constexpr std::string_view kIndent = "            ";  // width of `families = [`
  constexpr size_t kColumnsMax = 99;
  std::string families = n.families.empty() ? "\"all\"" : "[";
  size_t column = kIndent.size();
  for (size_t i = 0; i < n.families.size(); ++i) {
    std::string item = fmt::format("\"{}\"{}", fault_kind_name(n.families[i]),
                                   i + 1 < n.families.size() ? "," : "]");
    if (i > 0 && column + 1 + item.size() > kColumnsMax) {
      families += fmt::format("\n{}", kIndent);
      column = kIndent.size();
    } else if (i > 0) {
      families += ' ';
      ++column;
    }
    families += item;
    column += item.size();
  }
  out += fmt::format("\n[nemesis]\nenabled = {}\nfamilies = {}\nswarm = {}\n", n.enabled, families,
                     n.swarm);
  out += fmt::format("interval = [{}, {}]\n", duration(n.interval_min), duration(n.interval_max));
  out += fmt::format("fault_duration = [{}, {}]\n", duration(n.fault_duration_min),
                     duration(n.fault_duration_max));
}

}  // namespace

std::string broker_config_toml(const Scenario& s) {
  std::string out;
  for (const auto& [key, value] : s.broker_config)
    out += fmt::format("{} = {}\n", quote(key), value);
  return out;
}

std::string scenario_to_toml(const Scenario& s) {
  std::string out;
  write_header(s, out);
  write_cluster(s, out);
  for (const TopicSpec& t : s.topics) write_topic(t, out);
  for (const ProducerSpec& p : s.producers) write_producer(p, out);
  for (const ConsumerSpec& c : s.consumers) write_consumer(c, out);
  for (const FaultSpec& f : s.timeline) write_fault(f, out);
  write_nemesis(s.nemesis, out);
  return out;
}

}  // namespace gregor::scenario
