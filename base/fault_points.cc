#include "base/fault_points.h"

namespace gregor {

std::optional<FaultSite> fault_site_named(std::string_view name) {
  for (size_t i = 0; i < kFaultSiteCount; ++i) {
    if (kFaultSites[i].name == name) return static_cast<FaultSite>(i);
  }
  return std::nullopt;
}

std::optional<ProbeSite> probe_site_named(std::string_view name) {
  for (size_t i = 0; i < kProbeSiteCount; ++i) {
    if (kProbeSites[i].name == name) return static_cast<ProbeSite>(i);
  }
  return std::nullopt;
}

void add_probe_counts(ProbeCounts& total, const ProbeCounts& run) {
  for (size_t i = 0; i < kProbeSiteCount; ++i) total[i] += run[i];
}

std::vector<ProbeSite> never_hit(const ProbeCounts& counts) {
  std::vector<ProbeSite> out;
  for (size_t i = 0; i < kProbeSiteCount; ++i) {
    if (counts[i] == 0) out.push_back(static_cast<ProbeSite>(i));
  }
  return out;
}

FaultPoints::FaultPoints(const Random& random) : FaultPoints(random, Options{}) {}

// Each site's enablement and firing stream are forked by the site's name, not its number: the
// draws of a site stay the same when sites are added to or reordered in the registry.
FaultPoints::FaultPoints(const Random& random, Options options)
    : options_(options), values_(random.fork("values")) {
  Random enable = random.fork("enable");
  Random fire = random.fork("fire");
  for (size_t i = 0; i < kFaultSiteCount; ++i) {
    SiteState& s = sites_[i];
    s.drawn_enabled = enable.fork(kFaultSites[i].name).chance(options_.enable_probability);
    s.draws = fire.fork(kFaultSites[i].name);
  }
}

Duration FaultPoints::uniform_duration(Duration lo, Duration hi) {
  GREGOR_ASSERT(Duration::zero() <= lo && lo <= hi, "uniform_duration({}, {})", lo.count(),
                hi.count());
  return Duration(static_cast<int64_t>(
      uniform(static_cast<uint64_t>(lo.count()), static_cast<uint64_t>(hi.count()))));
}

bool FaultPoints::fire(FaultSite site) {
  SiteState& s = state(site);
  ++s.evaluations;
  if (!options_.buggify || !s.forced.value_or(s.drawn_enabled)) return false;
  if (!s.draws.chance(options_.fire_probability)) return false;
  ++s.fires;
  if (on_fire_) on_fire_(site);
  return true;
}

void FaultPoints::force(FaultSite site, std::optional<bool> enabled) {
  state(site).forced = enabled;
}

bool FaultPoints::enabled(FaultSite site) const {
  const SiteState& s = state(site);
  return s.forced.value_or(s.drawn_enabled);
}

std::vector<FaultSite> FaultPoints::enabled_sites() const {
  std::vector<FaultSite> out;
  for (size_t i = 0; i < kFaultSiteCount; ++i) {
    if (enabled(static_cast<FaultSite>(i))) out.push_back(static_cast<FaultSite>(i));
  }
  return out;
}

uint64_t FaultPoints::total_fires() const {
  uint64_t total = 0;
  for (const SiteState& s : sites_) total += s.fires;
  return total;
}

}  // namespace gregor
