// The building blocks of the scenario parser: typed, range-checked reads of one TOML table with
// messages that name the file, line and key; duration text; TOML quoting.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/scenario/scenario_toml.h"
#include "sim/scenario/scenario_toml_internal.h"

namespace gregor::scenario {

namespace {

constexpr int64_t kNsPerUs = 1000;
constexpr int64_t kNsPerMs = 1000 * kNsPerUs;
constexpr int64_t kNsPerS = 1000 * kNsPerMs;
constexpr int64_t kNsPerMin = 60 * kNsPerS;
constexpr int64_t kNsPerHour = 60 * kNsPerMin;
constexpr int kFractionDigitsMax = 18;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int64_t unit_ns(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us") return kNsPerUs;
  if (unit == "ms") return kNsPerMs;
  if (unit == "s") return kNsPerS;
  if (unit == "m") return kNsPerMin;
  if (unit == "h") return kNsPerHour;
  return 0;
}

// "W" or "W.F" with F's trailing zeros dropped: `v` in units of `unit` nanoseconds.
std::string decimal(uint64_t v, uint64_t unit, std::string_view suffix) {
  uint64_t whole = v / unit, frac = v % unit;
  if (frac == 0) return fmt::format("{}{}", whole, suffix);
  int digits = 0;
  for (uint64_t u = unit; u > 1; u /= 10) ++digits;
  std::string f = fmt::format("{:0{}}", frac, digits);
  while (!f.empty() && f.back() == '0') f.pop_back();
  return fmt::format("{}.{}{}", whole, f, suffix);
}

}  // namespace

Result<Duration> parse_duration_text(std::string_view text) {
  auto bad = [&](std::string_view why) -> Status {
    return errorf(Errc::invalid_argument,
                  "\"{}\" is not a duration: {} (write e.g. \"250ms\", \"1.5s\", \"2m\", \"1h\")",
                  text, why);
  };
  std::string_view t = text;
  bool negative = !t.empty() && t[0] == '-';
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
  if (t.empty()) return bad("no number");
  using Wide = __int128;
  constexpr Wide kLimit = INT64_MAX;
  Wide total = 0;
  while (!t.empty()) {
    size_t i = 0;
    Wide whole = 0, frac = 0, scale = 1;
    for (; i < t.size() && is_digit(t[i]); ++i) {
      whole = whole * 10 + (t[i] - '0');
      if (whole > kLimit) return bad("too long");
    }
    if (i == 0) return bad(fmt::format("expected a number at '{}'", t));
    if (i < t.size() && t[i] == '.') {
      size_t first = ++i;
      for (; i < t.size() && is_digit(t[i]); ++i) {
        if (i - first >= kFractionDigitsMax) return bad("too many decimals");
        frac = frac * 10 + (t[i] - '0');
        scale *= 10;
      }
      if (i == first) return bad("no digits after '.'");
    }
    size_t end = i;
    while (end < t.size() && is_letter(t[end])) ++end;
    std::string_view unit = t.substr(i, end - i);
    if (unit.empty() && end < t.size()) return bad(fmt::format("unexpected '{}'", t[end]));
    if (unit.empty()) return bad("missing unit (ns, us, ms, s, m, h)");
    int64_t ns = unit_ns(unit);
    if (ns == 0) return bad(fmt::format("unknown unit '{}' (ns, us, ms, s, m, h)", unit));
    if (frac * ns % scale != 0) return bad("finer than a nanosecond");
    total += whole * ns + frac * ns / scale;
    if (total > kLimit) return bad("too long");
    t.remove_prefix(end);
  }
  return Duration(static_cast<int64_t>(negative ? -total : total));
}

std::string format_duration_toml(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  // Unsigned, so that Duration::min() has a magnitude too.
  uint64_t abs = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string body;
  if (abs % kNsPerHour == 0) {
    body = fmt::format("{}h", abs / kNsPerHour);
  } else if (abs % kNsPerMin == 0) {
    body = fmt::format("{}m", abs / kNsPerMin);
  } else if (abs >= kNsPerS) {
    body = decimal(abs, kNsPerS, "s");
  } else if (abs >= kNsPerMs) {
    body = decimal(abs, kNsPerMs, "ms");
  } else if (abs >= kNsPerUs) {
    body = decimal(abs, kNsPerUs, "us");
  } else {
    body = fmt::format("{}ns", abs);
  }
  return ns < 0 ? "-" + body : body;
}

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        // TOML forbids other control characters (and DEL) in basic strings.
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\u{:04X}", u);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace internal {

uint32_t line_of(const toml::node& node) {
  return std::max<uint32_t>(1, node.source().begin.line);
}

namespace {

// Optimal string alignment distance: Levenshtein plus swaps of adjacent characters ("crahs").
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string suggestion(std::string_view word, const std::vector<std::string_view>& known,
                       char quote) {
  // A typo is a few edits, fewer for short words: none for one character ("2" is not a typo of
  // "1"), one for up to three ("rat"), at most three.
  size_t allowed = std::min<size_t>(3, word.size() / 2);
  if (word.size() > 64) return "";  // not a typo: no quadratic work for a huge key
  std::string_view best;
  size_t best_distance = allowed + 1;
  for (std::string_view k : known) {
    size_t d = edit_distance(word, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  if (best.empty()) return "";
  return fmt::format(" (did you mean {}{}{}?)", quote, best, quote);
}

std::string join_path(std::string_view path, std::string_view key) {
  std::string k = key.find('.') == std::string_view::npos ? std::string(key) : toml_quote(key);
  return path.empty() ? k : fmt::format("{}.{}", path, k);
}

std::string show(Duration d) {
  return format_duration_toml(d);
}

Status Ctx::at_key(uint32_t line, std::string_view path, std::string_view why) const {
  return errorf(Errc::invalid_argument, "{}:{}: key '{}': {}", file_, line, path, why);
}

Status Ctx::at_line(uint32_t line, std::string_view why) const {
  return errorf(Errc::invalid_argument, "{}:{}: {}", file_, line, why);
}

std::vector<std::pair<std::string_view, const toml::node*>> Table::entries() const {
  std::vector<std::pair<std::string_view, const toml::node*>> out;
  for (const auto& [key, node] : table_) out.emplace_back(key.str(), &node);
  auto position = [](const auto& e) {
    const toml::source_position& p = e.second->source().begin;
    return std::pair(p.line, p.column);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const auto& a, const auto& b) { return position(a) < position(b); });
  return out;
}

Status Table::check_keys(const std::vector<std::string_view>& known) const {
  for (const auto& [key, node] : entries()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    return cx_.at(*node, path_of(key), "unknown key" + suggestion(key, known));
  }
  return Status::Ok();
}

Status Table::error(std::string_view key, std::string_view why) const {
  const toml::node* node = find(key);
  return cx_.at_key(node != nullptr ? line_of(*node) : line(), path_of(key), why);
}

Status Table::error_here(std::string_view why) const {
  if (path_.empty()) return cx_.at_line(line(), why);
  return cx_.at_line(line(), fmt::format("{}: {}", path_, why));
}

Status Table::type_error(std::string_view key, std::string_view expected) const {
  return error(key,
               fmt::format("expected {}, got {}", expected, toml_type_name(find(key)->type())));
}

Status Table::read(std::string_view key, std::string& out) const {
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_string()) return type_error(key, "a string");
  out = node->as_string()->get();
  return Status::Ok();
}

Status Table::read(std::string_view key, bool& out) const {
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_boolean()) return type_error(key, "a boolean (true or false)");
  out = node->as_boolean()->get();
  return Status::Ok();
}

Status Table::read_int(std::string_view key, int64_t min, int64_t max, int64_t& out) const {
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_integer()) return type_error(key, "an integer");
  int64_t v = node->as_integer()->get();
  if (v < min || v > max) return error(key, fmt::format("{} is outside [{}, {}]", v, min, max));
  out = v;
  return Status::Ok();
}

Status Table::read_number(std::string_view key, double min, double max, double& out) const {
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  double v = 0;
  if (node->is_integer()) {
    v = static_cast<double>(node->as_integer()->get());
  } else if (node->is_floating_point()) {
    v = node->as_floating_point()->get();
  } else {
    return type_error(key, "a number");
  }
  if (!(v >= min && v <= max))
    return error(key, fmt::format("{} is outside [{}, {}]", v, min, max));
  out = v;
  return Status::Ok();
}

Status Table::read_duration(std::string_view key, Duration min, Duration max, Duration& out) const {
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_string()) return type_error(key, "a duration string such as \"3s\"");
  auto d = parse_duration_text(node->as_string()->get());
  if (!d.ok()) return error(key, d.status().message());
  if (*d < min) {
    if (min == Duration::zero()) return error(key, fmt::format("{} is negative", show(*d)));
    if (min == nanoseconds(1)) return error(key, fmt::format("{} is not positive", show(*d)));
    return error(key, fmt::format("{} is below {}", show(*d), show(min)));
  }
  if (*d > max) return error(key, fmt::format("{} is over the limit of {}", show(*d), show(max)));
  out = *d;
  return Status::Ok();
}

std::string Table::enum_message(std::string_view text, const std::vector<std::string_view>& ok) {
  std::string list;
  for (std::string_view name : ok) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", name);
  return fmt::format("\"{}\" is not one of {}{}", text, list, suggestion(text, ok, '"'));
}

Status Table::read_table(std::string_view key, const toml::table*& out) const {
  out = nullptr;
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_table()) return type_error(key, "a table");
  out = node->as_table();
  return Status::Ok();
}

Status Table::read_array(std::string_view key, const toml::array*& out) const {
  out = nullptr;
  const toml::node* node = find(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_array()) return type_error(key, "an array");
  out = node->as_array();
  return Status::Ok();
}

}  // namespace internal
}  // namespace gregor::scenario
