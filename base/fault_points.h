// Fault points (FoundationDB's BUGGIFY) and coverage probes in node and client code.
//
//   if (GREGOR_BUGGIFY(env, log_roll_early)) { ...a legal but rare path... }
//   GREGOR_PROBE(env, log_recovery_cut_tail);
//
// Every site is declared once, with a one-line description, in base/fault_sites.def; the macros
// take the bare site name and expand to an enum constant, so a misspelt site does not compile and
// every site can be listed even if no run ever reached it.
//
// Production never sets Env::fault_points: GREGOR_BUGGIFY is then false and GREGOR_PROBE a no-op,
// at the cost of one pointer test. The simulator gives each world one FaultPoints (sim/cluster.h).
//
// Firing rule (FoundationDB's, same defaults): each fault site is either enabled for the whole run
// (probability enable_probability, 0.25) or not; an enabled site fires on each evaluation with
// probability fire_probability (0.25). So a run exercises a random quarter of the sites, and those
// often enough to matter but not on every pass (a site that fired every time would starve the
// common path it branches from). Both draws come from the run's seed only: whether a site is
// enabled depends on the seed and the site's name, and its firings on those and on how often that
// site alone was evaluated, so adding a site or an evaluation elsewhere reshuffles nothing else.
//
// What a fault point may do: take a path the system must handle anyway (a segment rolled early,
// a short read, a lost response, a shorter timeout). It never breaks a guarantee; a checker
// failure under BUGGIFY is a real bug, as it is under any other fault.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/random.h"

namespace gregor {

enum class FaultSite : uint16_t {
#define GREGOR_FAULT_SITE(name, description) name,
#include "base/fault_sites.def"
};

enum class ProbeSite : uint16_t {
#define GREGOR_PROBE_SITE(name, description) name,
#include "base/fault_sites.def"
};

struct SiteInfo {
  std::string_view name;
  std::string_view description;
};

// Every site of the registry, indexed by the enum's value (declaration order).
inline constexpr std::array kFaultSites = {
#define GREGOR_FAULT_SITE(name, description) SiteInfo{#name, description},
#include "base/fault_sites.def"
};
inline constexpr std::array kProbeSites = {
#define GREGOR_PROBE_SITE(name, description) SiteInfo{#name, description},
#include "base/fault_sites.def"
};
inline constexpr size_t kFaultSiteCount = kFaultSites.size();
inline constexpr size_t kProbeSiteCount = kProbeSites.size();

constexpr const SiteInfo& site_info(FaultSite site) {
  return kFaultSites[static_cast<size_t>(site)];
}
constexpr const SiteInfo& site_info(ProbeSite site) {
  return kProbeSites[static_cast<size_t>(site)];
}
// Looks a site up by name (scenario files and command lines name sites as text).
std::optional<FaultSite> fault_site_named(std::string_view name);
std::optional<ProbeSite> probe_site_named(std::string_view name);

// Hits per probe, indexed by ProbeSite. A sweep adds up the counts of its runs and lists the
// probes still at zero (never_hit).
using ProbeCounts = std::array<uint64_t, kProbeSiteCount>;
void add_probe_counts(ProbeCounts& total, const ProbeCounts& run);
std::vector<ProbeSite> never_hit(const ProbeCounts& counts);

// One world's fault points and probes. Single-threaded like the world it belongs to.
class FaultPoints {
 public:
  struct Options {
    bool buggify = true;  // false: fire() is always false (probes still count)
    double enable_probability = 0.25;
    double fire_probability = 0.25;
  };

  // `random` is the world's stream for fault points; only its seed is used (streams per site are
  // forked from it).
  explicit FaultPoints(const Random& random);
  FaultPoints(const Random& random, Options options);
  FaultPoints(const FaultPoints&) = delete;
  FaultPoints& operator=(const FaultPoints&) = delete;

  // Whether the fault at `site` happens now. Always counts the evaluation; draws randomness only
  // while buggify is on and the site enabled, so a run with buggify off is the run without fault
  // points, draw for draw.
  bool fire(FaultSite site);
  // Records that the probe's path was reached.
  void hit(ProbeSite probe) { ++probe_hits_[static_cast<size_t>(probe)]; }

  // The whole-run switch. Turning it off mid-run stops firing; probes count regardless.
  void set_buggify(bool on) { options_.buggify = on; }
  bool buggify() const { return options_.buggify; }
  // Pins a site enabled (true) or disabled (false) for the rest of the run, whatever the seed
  // drew: tests and scenarios that aim at one site. nullopt returns it to the seed's choice.
  void force(FaultSite site, std::optional<bool> enabled);
  // Whether a site is enabled for this run (it still fires only with buggify on).
  bool enabled(FaultSite site) const;
  // The enabled sites, in registry order, whether or not they were evaluated yet.
  std::vector<FaultSite> enabled_sites() const;

  // A magnitude for a fault that fired (a shorter timeout, a smaller size), uniform in [lo, hi],
  // from the fault points' own stream so that it reshuffles no process's randomness.
  uint64_t uniform(uint64_t lo, uint64_t hi) { return values_.uniform(lo, hi); }
  // The same for a duration in [lo, hi] (0 <= lo <= hi), to the nanosecond.
  Duration uniform_duration(Duration lo, Duration hi);

  // Runs on every firing, before fire() returns true (the simulator traces it).
  void set_on_fire(std::function<void(FaultSite)> on_fire) { on_fire_ = std::move(on_fire); }

  uint64_t evaluations(FaultSite site) const { return state(site).evaluations; }
  uint64_t fires(FaultSite site) const { return state(site).fires; }
  uint64_t total_fires() const;
  uint64_t hits(ProbeSite probe) const { return probe_hits_[static_cast<size_t>(probe)]; }
  const ProbeCounts& probe_hits() const { return probe_hits_; }

 private:
  struct SiteState {
    bool drawn_enabled = false;  // the seed's choice
    std::optional<bool> forced;
    Random draws{0};  // this site's firing stream
    uint64_t evaluations = 0;
    uint64_t fires = 0;
  };
  const SiteState& state(FaultSite site) const { return sites_[static_cast<size_t>(site)]; }
  SiteState& state(FaultSite site) { return sites_[static_cast<size_t>(site)]; }

  Options options_;
  std::array<SiteState, kFaultSiteCount> sites_;
  Random values_;
  ProbeCounts probe_hits_{};
  std::function<void(FaultSite)> on_fire_;
};

}  // namespace gregor

// `env` is an Env (or a reference to one); `site` a bare name from base/fault_sites.def.
#define GREGOR_BUGGIFY(env, site)                        \
  (__builtin_expect((env).fault_points != nullptr, 0) && \
   (env).fault_points->fire(::gregor::FaultSite::site))

#define GREGOR_PROBE(env, site)                               \
  do {                                                        \
    if (__builtin_expect((env).fault_points != nullptr, 0)) { \
      (env).fault_points->hit(::gregor::ProbeSite::site);     \
    }                                                         \
  } while (0)
