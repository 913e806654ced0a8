// Proves the fault point registry and FaultPoints: every site is listed once with a description;
// with no FaultPoints (production) or with buggify off nothing fires and no randomness is drawn;
// firings are a function of the seed and of each site's own evaluations; a site is enabled or not
// for the whole run, about a quarter of sites per seed, and an enabled one fires on about a quarter
// of its evaluations; force() pins a site; probes count hits and never_hit() lists the rest.
#include "base/fault_points.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <type_traits>

namespace gregor {
namespace {

// The macros need only a `fault_points` member; Env itself has one (asserted below), but building
// an Env needs a clock, network and disk that base/ does not have.
struct FakeEnv {
  FaultPoints* fault_points = nullptr;
};
static_assert(std::is_same_v<decltype(std::declval<Env&>().fault_points), FaultPoints*>);

std::vector<bool> fire_sequence(FaultPoints& fp, FaultSite site, int n) {
  std::vector<bool> out;
  for (int i = 0; i < n; ++i) out.push_back(fp.fire(site));
  return out;
}

// A seed under which `site` is enabled, found by trying seeds in order.
uint64_t seed_enabling(FaultSite site) {
  for (uint64_t seed = 1;; ++seed) {
    if (FaultPoints(Random(seed)).enabled(site)) return seed;
  }
}

TEST(FaultPointsRegistry, ListsEverySiteOnceWithADescription) {
  EXPECT_GE(kFaultSiteCount, 1u);
  EXPECT_GE(kProbeSiteCount, 1u);
  std::set<std::string_view> names;
  auto check = [&](const SiteInfo& s) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate site name " << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_LE(s.description.size(), 100u) << s.name << ": one line";
    for (char c : s.name) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << s.name;
    }
  };
  for (const SiteInfo& s : kFaultSites) check(s);
  for (const SiteInfo& s : kProbeSites) check(s);
  EXPECT_EQ(names.size(), kFaultSiteCount + kProbeSiteCount);
}

TEST(FaultPointsRegistry, NamesMapToSitesAndBack) {
  EXPECT_EQ(site_info(FaultSite::log_roll_early).name, "log_roll_early");
  EXPECT_EQ(site_info(ProbeSite::log_recovery_cut_tail).name, "log_recovery_cut_tail");
  for (size_t i = 0; i < kFaultSiteCount; ++i) {
    EXPECT_EQ(fault_site_named(kFaultSites[i].name), static_cast<FaultSite>(i));
  }
  for (size_t i = 0; i < kProbeSiteCount; ++i) {
    EXPECT_EQ(probe_site_named(kProbeSites[i].name), static_cast<ProbeSite>(i));
  }
  EXPECT_EQ(fault_site_named("no_such_site"), std::nullopt);
  EXPECT_EQ(probe_site_named("log_roll_early"), std::nullopt);  // a fault site, not a probe
}

TEST(FaultPoints, WithoutFaultPointsNothingFiresAndProbesAreNoOps) {
  FakeEnv env;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(GREGOR_BUGGIFY(env, log_roll_early));
    GREGOR_PROBE(env, log_offline);
  }
}

TEST(FaultPoints, BuggifyOffNeverFiresDrawsNothingButCountsProbes) {
  FaultSite site = FaultSite::log_read_short;
  uint64_t seed = seed_enabling(site);
  FaultPoints off(Random(seed), FaultPoints::Options{.buggify = false});
  off.force(FaultSite::client_lose_response, true);
  FakeEnv env{&off};
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(GREGOR_BUGGIFY(env, log_read_short));
    EXPECT_FALSE(GREGOR_BUGGIFY(env, client_lose_response));
    GREGOR_PROBE(env, log_offline);
  }
  EXPECT_EQ(off.evaluations(site), 1000u);
  EXPECT_EQ(off.fires(site), 0u);
  EXPECT_EQ(off.total_fires(), 0u);
  EXPECT_EQ(off.hits(ProbeSite::log_offline), 1000u);
  // Turned on now, it fires exactly as a fresh one would: being off drew nothing.
  off.set_buggify(true);
  FaultPoints fresh{Random(seed)};
  EXPECT_EQ(fire_sequence(off, site, 200), fire_sequence(fresh, site, 200));
}

TEST(FaultPoints, SameSeedSameFirings) {
  FaultPoints a{Random(7)}, b{Random(7)};
  for (int i = 0; i < 5000; ++i) {
    auto site = static_cast<FaultSite>(static_cast<size_t>(i * 7919) % kFaultSiteCount);
    ASSERT_EQ(a.fire(site), b.fire(site)) << "evaluation " << i;
  }
  EXPECT_EQ(a.enabled_sites(), b.enabled_sites());
  EXPECT_EQ(a.total_fires(), b.total_fires());
}

TEST(FaultPoints, ASitesFiringsDoNotDependOnOtherSites) {
  FaultSite site = FaultSite::log_roll_early;
  uint64_t seed = seed_enabling(site);
  FaultPoints quiet{Random(seed)}, busy{Random(seed)};
  std::vector<bool> expected = fire_sequence(quiet, site, 300);
  std::vector<bool> got;
  for (int i = 0; i < 300; ++i) {
    for (size_t other = 0; other < kFaultSiteCount; ++other) {
      if (static_cast<FaultSite>(other) != site) busy.fire(static_cast<FaultSite>(other));
    }
    got.push_back(busy.fire(site));
  }
  EXPECT_EQ(got, expected);
}

TEST(FaultPoints, SitesAreEnabledPerRunAtTheConfiguredRate) {
  uint64_t enabled = 0, total = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    FaultPoints fp{Random(seed)};
    std::vector<FaultSite> on = fp.enabled_sites();
    enabled += on.size();
    total += kFaultSiteCount;
    for (size_t i = 0; i < kFaultSiteCount; ++i) {
      auto site = static_cast<FaultSite>(i);
      bool listed = std::find(on.begin(), on.end(), site) != on.end();
      EXPECT_EQ(listed, fp.enabled(site));
      // A disabled site never fires, however often it is evaluated.
      if (!listed) {
        for (int k = 0; k < 20; ++k) ASSERT_FALSE(fp.fire(site));
      }
    }
  }
  double rate = static_cast<double>(enabled) / static_cast<double>(total);
  EXPECT_GT(rate, 0.20);
  EXPECT_LT(rate, 0.30);
}

TEST(FaultPoints, AnEnabledSiteFiresOnAboutAQuarterOfItsEvaluations) {
  FaultSite site = FaultSite::producer_send_early;
  FaultPoints fp{Random(seed_enabling(site))};
  int fired = 0;
  for (int i = 0; i < 10000; ++i) fired += fp.fire(site) ? 1 : 0;
  EXPECT_GT(fired, 2200);
  EXPECT_LT(fired, 2800);
  EXPECT_EQ(fp.fires(site), static_cast<uint64_t>(fired));
  EXPECT_EQ(fp.evaluations(site), 10000u);
}

TEST(FaultPoints, ProbabilitiesAreOptions) {
  FaultPoints always(Random(3), {.enable_probability = 1, .fire_probability = 1});
  EXPECT_EQ(always.enabled_sites().size(), kFaultSiteCount);
  EXPECT_TRUE(always.fire(FaultSite::log_flush_early));
  FaultPoints never(Random(3), {.enable_probability = 0, .fire_probability = 1});
  EXPECT_TRUE(never.enabled_sites().empty());
}

TEST(FaultPoints, ForcePinsASite) {
  FaultSite site = FaultSite::client_short_request_timeout;
  FaultPoints fp(Random(11), {.fire_probability = 1});
  fp.force(site, true);
  EXPECT_TRUE(fp.enabled(site));
  EXPECT_TRUE(fp.fire(site));
  fp.force(site, false);
  EXPECT_FALSE(fp.fire(site));
  fp.force(site, std::nullopt);
  EXPECT_EQ(fp.enabled(site), FaultPoints(Random(11)).enabled(site));
}

TEST(FaultPoints, OnFireSeesEveryFiring) {
  FaultPoints fp(Random(5), {.enable_probability = 1, .fire_probability = 0.5});
  std::vector<FaultSite> seen;
  fp.set_on_fire([&](FaultSite s) { seen.push_back(s); });
  uint64_t fired = 0;
  for (int i = 0; i < 100; ++i) fired += fp.fire(FaultSite::consumer_fetch_one_batch) ? 1 : 0;
  EXPECT_EQ(seen.size(), fired);
  for (FaultSite s : seen) EXPECT_EQ(s, FaultSite::consumer_fetch_one_batch);
}

TEST(FaultPoints, ValuesAreInRangeAndDeterministic) {
  FaultPoints a{Random(9)}, b{Random(9)};
  for (int i = 0; i < 100; ++i) {
    Duration d = a.uniform_duration(milliseconds(1), seconds(1));
    EXPECT_GE(d, milliseconds(1));
    EXPECT_LE(d, seconds(1));
    EXPECT_EQ(d, b.uniform_duration(milliseconds(1), seconds(1)));
  }
}

TEST(FaultPoints, ProbesCountAndNeverHitListsTheRest) {
  FaultPoints fp{Random(1)};
  FakeEnv env{&fp};
  GREGOR_PROBE(env, log_recovery_cut_tail);
  GREGOR_PROBE(env, log_recovery_cut_tail);
  GREGOR_PROBE(env, consumer_offset_reset);
  EXPECT_EQ(fp.hits(ProbeSite::log_recovery_cut_tail), 2u);
  EXPECT_EQ(fp.hits(ProbeSite::consumer_offset_reset), 1u);
  std::vector<ProbeSite> missing = never_hit(fp.probe_hits());
  EXPECT_EQ(missing.size(), kProbeSiteCount - 2);
  EXPECT_EQ(std::count(missing.begin(), missing.end(), ProbeSite::log_recovery_cut_tail), 0);

  // A sweep adds up its runs' counts.
  ProbeCounts total{};
  add_probe_counts(total, fp.probe_hits());
  FaultPoints other{Random(2)};
  other.hit(ProbeSite::log_offline);
  add_probe_counts(total, other.probe_hits());
  EXPECT_EQ(total[static_cast<size_t>(ProbeSite::log_recovery_cut_tail)], 2u);
  EXPECT_EQ(never_hit(total).size(), kProbeSiteCount - 3);
}

}  // namespace
}  // namespace gregor
