#include "sim/scenario/scenario.h"

#include <array>

namespace gregor::scenario {

namespace {

// Indexed by FaultKind; the names are the enumerators' own, so a scenario file, a trace and the
// code all say the same word.
constexpr std::array<std::string_view, kFaultKinds> kFaultKindNames = {
    "crash",       "power_loss", "pause",     "partition",   "one_way",    "clog",       "reset",
    "refuse",      "hold",       "slow_link", "fsync_eio",   "disk_full",  "disk_stall", "bit_flip",
    "latent_read", "misdirect",  "wipe",      "clock_drift", "clock_jump",
};
static_assert(static_cast<int>(FaultKind::clock_jump) + 1 == kFaultKinds,
              "kFaultKindNames must list every FaultKind");

}  // namespace

std::string_view fault_kind_name(FaultKind k) {
  auto i = static_cast<size_t>(k);
  return i < kFaultKindNames.size() ? kFaultKindNames[i] : "?";
}

std::optional<FaultKind> parse_fault_kind(std::string_view name) {
  for (size_t i = 0; i < kFaultKindNames.size(); ++i) {
    if (kFaultKindNames[i] == name) return static_cast<FaultKind>(i);
  }
  return std::nullopt;
}

std::string node_ref_text(const NodeRef& r) {
  switch (r.kind) {
    case NodeRef::Kind::broker:
      return std::to_string(r.broker);
    case NodeRef::Kind::client:
      return r.name;
    case NodeRef::Kind::leader:
      return "leader:" + r.name;
    case NodeRef::Kind::replica:
      return "replica:" + r.name + "#" + std::to_string(r.broker);
    case NodeRef::Kind::controller:
      return "controller-" + std::to_string(r.broker);
    case NodeRef::Kind::active_controller:
      return "controller:active";
  }
  return "?";
}

}  // namespace gregor::scenario
