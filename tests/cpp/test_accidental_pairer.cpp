// AccidentalPairer, accidentalCount (P2-DNN Eq. 2.1), isolatedRates, PairedColumns.
#include "TempDir.h"

#include "tpcml/pairing/AccidentalPairer.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/lxe/NRMedian.h"
#include "tpcml/lxe/PositionCorrections.h"
#include "tpcml/core/RootIO.h"

#include <ROOT/RDataFrame.hxx>
#include <TROOT.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace tpcml;

namespace {

constexpr Long64_t kS1IdOffset = 1000, kS2IdOffset = 50000;

/// Isolated S1s with distinct, recognisable properties; id = kS1IdOffset + row.
IsolatedS1Table makeS1(std::size_t n, std::uint64_t seed = 1)
{
   std::mt19937_64 rng(seed);
   std::uniform_real_distribution<float> q(3.f, 45.f), w(20.f, 400.f), tba(-0.9f, 0.2f), bcq(0.05f, 0.9f);
   std::uniform_int_distribution<int> peaks(1, 6);
   IsolatedS1Table t;
   for (std::size_t i = 0; i < n; ++i) {
      t.qS1.push_back(q(rng));
      t.wS1.push_back(w(rng));
      t.S1TBA.push_back(tba(rng));
      t.S1LargestBCQ.push_back(bcq(rng));
      t.S1NPeaks.push_back(peaks(rng));
      t.id.push_back(kS1IdOffset + static_cast<Long64_t>(i));
      t.run.push_back(11u);
   }
   return t;
}

/// Isolated S2s inside the fiducial radius; id = kS2IdOffset + row, run 100 + row % 3.
IsolatedS2Table makeS2(std::size_t n, std::uint64_t seed = 2)
{
   std::mt19937_64 rng(seed);
   std::uniform_real_distribution<float> q(100.f, 1e4f), w(500.f, 3000.f), tba(-0.2f, 0.8f), sy(0.2f, 0.8f);
   std::uniform_real_distribution<double> u(0., 1.);
   IsolatedS2Table t;
   for (std::size_t i = 0; i < n; ++i) {
      const double r = 260. * std::sqrt(u(rng)), phi = 6.283185307179586 * u(rng);
      t.qS2.push_back(q(rng));
      t.wS2.push_back(w(rng));
      t.wtenS2.push_back(1.8f * t.wS2.back());
      t.S2TBA.push_back(tba(rng));
      t.S2SY1.push_back(sy(rng));
      t.S2SY2.push_back(sy(rng));
      t.x.push_back(static_cast<float>(r * std::cos(phi)));
      t.y.push_back(static_cast<float>(r * std::sin(phi)));
      t.id.push_back(kS2IdOffset + static_cast<Long64_t>(i));
      t.run.push_back(100u + static_cast<UInt_t>(i % 3));
   }
   return t;
}

/// Small analytic maps: fast to build, with clear position dependence.
PositionCorrections simpleCorrections()
{
   RegularGrid s1{-300., 300., -300., 300., -600., 0., 2, 2, 3, {}};
   for (float v : {0.8f, 1.0f, 1.3f, 0.9f, 1.1f, 1.4f, 0.7f, 0.95f, 1.25f, 0.85f, 1.05f, 1.35f})
      s1.values.push_back(v);
   RegularGrid s2{-300., 300., -300., 300., 0., 1., 3, 2, 1, {0.9f, 1.1f, 1.0f, 1.05f, 0.8f, 1.2f}};
   return PositionCorrections(s1, s2, 800., 1.65);
}

AccidentalPairer::Options options(std::uint64_t seed, bool withReplacement = true)
{
   AccidentalPairer::Options o;
   o.driftTimeMin = 18.;
   o.driftTimeMax = 310.;
   o.seed = seed;
   o.withReplacement = withReplacement;
   return o;
}

template <class E> std::string messageOf(const std::function<void()> &f)
{
   try {
      f();
   } catch (const E &e) {
      return e.what();
   }
   return "<expected exception not thrown>";
}

template <class T> std::vector<T> slice(const std::vector<T> &v, std::size_t b, std::size_t n)
{
   return std::vector<T>(v.begin() + static_cast<long>(b), v.begin() + static_cast<long>(b + n));
}

/// Every column of a equals the rows [b, b + a.size()) of c.
void expectSameColumns(const PairedColumns &a, const PairedColumns &c, std::size_t b = 0)
{
   const std::size_t n = a.size();
   ASSERT_LE(b + n, c.size());
   EXPECT_EQ(a.run, slice(c.run, b, n));
   EXPECT_EQ(a.event, slice(c.event, b, n));
   EXPECT_EQ(a.s1_id, slice(c.s1_id, b, n));
   EXPECT_EQ(a.s2_id, slice(c.s2_id, b, n));
   EXPECT_EQ(a.qS1, slice(c.qS1, b, n));
   EXPECT_EQ(a.qS2, slice(c.qS2, b, n));
   EXPECT_EQ(a.qS1c, slice(c.qS1c, b, n));
   EXPECT_EQ(a.qS2c, slice(c.qS2c, b, n));
   EXPECT_EQ(a.wS1, slice(c.wS1, b, n));
   EXPECT_EQ(a.wS2, slice(c.wS2, b, n));
   EXPECT_EQ(a.wtenS2, slice(c.wtenS2, b, n));
   EXPECT_EQ(a.S1TBA, slice(c.S1TBA, b, n));
   EXPECT_EQ(a.S2TBA, slice(c.S2TBA, b, n));
   EXPECT_EQ(a.S2SY1, slice(c.S2SY1, b, n));
   EXPECT_EQ(a.S2SY2, slice(c.S2SY2, b, n));
   EXPECT_EQ(a.S1LargestBCQ, slice(c.S1LargestBCQ, b, n));
   EXPECT_EQ(a.S1NPeaks, slice(c.S1NPeaks, b, n));
   EXPECT_EQ(a.drift_time, slice(c.drift_time, b, n));
   EXPECT_EQ(a.x, slice(c.x, b, n));
   EXPECT_EQ(a.y, slice(c.y, b, n));
   EXPECT_EQ(a.z, slice(c.z, b, n));
   EXPECT_EQ(a.below_nr_median, slice(c.below_nr_median, b, n));
   EXPECT_EQ(a.weight, slice(c.weight, b, n));
}

} // namespace

// ---------------------------------------------------------------- Eq. 2.1

TEST(AccidentalCount, HandComputed)
{
   // 2 Hz x 0.01 Hz x 800 us x 1 d x 0.9
   EXPECT_NEAR(accidentalCount(2., 0.01, 800., 86400., 0.9), 1.24416, 1e-12);
   EXPECT_NEAR(accidentalCount(2., 0.01, 800., 86400.), 1.3824, 1e-12); // eps defaults to 1
   // PandaX-II Run 11 model of the registry: r1 = 2 Hz, r2 = 0.001686 Hz, 292 us, 244.2 d -> 20.8
   EXPECT_NEAR(accidentalCount(2., 0.001686, 310. - 18., 244.2 * 86400., 1.), 20.77446362112, 1e-9);
   // linear in each factor
   EXPECT_NEAR(accidentalCount(4., 0.01, 800., 86400., 0.9), 2. * 1.24416, 1e-12);
   EXPECT_NEAR(accidentalCount(2., 0.01, 400., 86400., 0.9), 0.5 * 1.24416, 1e-12);
   EXPECT_EQ(accidentalCount(0., 0.01, 800., 86400., 0.9), 0.);
   EXPECT_EQ(accidentalCount(2., 0., 800., 86400., 0.9), 0.);
   EXPECT_EQ(accidentalCount(0., 0., 800., 86400.), 0.);
   EXPECT_EQ(accidentalCount(2., 0.01, 0., 86400.), 0.);
   EXPECT_EQ(accidentalCount(2., 0.01, 800., 0.), 0.);
   EXPECT_EQ(accidentalCount(2., 0.01, 800., 86400., 0.), 0.);
}

TEST(AccidentalCount, InvalidInputsThrow)
{
   const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
   for (double bad : {-1., -1e-12, nan, inf, -inf}) {
      EXPECT_THROW(accidentalCount(bad, 0.01, 800., 86400.), UsageError) << bad;
      EXPECT_THROW(accidentalCount(2., bad, 800., 86400.), UsageError) << bad;
      EXPECT_THROW(accidentalCount(2., 0.01, bad, 86400.), UsageError) << bad;
      EXPECT_THROW(accidentalCount(2., 0.01, 800., bad), UsageError) << bad;
      EXPECT_THROW(accidentalCount(2., 0.01, 800., 86400., bad), UsageError) << bad;
   }
   EXPECT_THROW(accidentalCount(2., 0.01, 800., 86400., 1.5), UsageError);
   const std::string msg = messageOf<UsageError>([] { accidentalCount(2., -0.5, 800., 86400.); });
   EXPECT_NE(msg.find("S2 rate"), std::string::npos) << msg;
   const std::string msg2 = messageOf<UsageError>([&] { accidentalCount(2., 0.01, 800., nan); });
   EXPECT_NE(msg2.find("live time"), std::string::npos) << msg2;
}

TEST(IsolatedRates, RuleForLiveTimeAndStoredRates)
{
   test::TempDir tmp;
   const std::vector<float> v{1.f};
   auto file = [&](const std::string &name, std::vector<std::pair<std::string, double>> params) {
      TreeFileContents c;
      c.trees.push_back({"s1", {{"qS1", 'F', v.data(), v.size()}}});
      c.parameters = std::move(params);
      const std::string path = tmp.path(name);
      writeTreeFile(path, c);
      return path;
   };
   const std::string stored = file("stored.root", {{"tpcml_livetime", 1000.},
                                                   {"tpcml_isolated_s1_rate", 2.},
                                                   {"tpcml_isolated_s2_rate", 0.01},
                                                   {"tpcml_data_quality_efficiency", 0.9}});
   const std::string liveOnly = file("live.root", {{"tpcml_livetime", 500.}});
   const std::string none = file("none.root", {});

   // stored rates win over N / T when no live time is given
   auto r = isolatedRates(stored, 300, 40);
   ASSERT_TRUE(r.known());
   EXPECT_EQ(r.s1Hz, 2.);
   EXPECT_EQ(r.s2Hz, 0.01);
   EXPECT_EQ(r.liveTimeS, 1000.);
   EXPECT_EQ(r.efficiency, 0.9);
   EXPECT_NEAR(r.expected(800.), accidentalCount(2., 0.01, 800., 1000., 0.9), 1e-15);
   // a user live time means N / T, stored rates ignored; a user efficiency overrides the stored one
   r = isolatedRates(stored, 300, 40, 100., 0.5);
   ASSERT_TRUE(r.known());
   EXPECT_DOUBLE_EQ(r.s1Hz, 3.);
   EXPECT_DOUBLE_EQ(r.s2Hz, 0.4);
   EXPECT_EQ(r.liveTimeS, 100.);
   EXPECT_EQ(r.efficiency, 0.5);
   // only a stored live time: N / T, efficiency 1 by default
   r = isolatedRates(liveOnly, 1000, 5);
   ASSERT_TRUE(r.known());
   EXPECT_DOUBLE_EQ(r.s1Hz, 2.);
   EXPECT_DOUBLE_EQ(r.s2Hz, 0.01);
   EXPECT_EQ(r.efficiency, 1.);
   // nothing known
   r = isolatedRates(none, 10, 10);
   EXPECT_FALSE(r.known());
   EXPECT_FALSE(IsolatedRates{}.known());
   EXPECT_THROW(isolatedRates(tmp.path("missing.root"), 1, 1), InputError);
}

// ---------------------------------------------------------------- pairing

TEST(AccidentalPairer, KeepsEachSignalsOwnPropertiesExactly)
{
   const auto s1 = makeS1(500);
   const auto s2 = makeS2(300);
   for (bool withReplacement : {true, false}) {
      AccidentalPairer::Options o = options(17, withReplacement);
      o.weight = 0.125f;
      const AccidentalPairer p(s1, s2, simpleCorrections(), o);
      EXPECT_EQ(p.nS1(), 500u);
      EXPECT_EQ(p.nS2(), 300u);
      const std::size_t n = withReplacement ? 5000 : 300;
      const PairedColumns c = p.pair(0, n);
      ASSERT_EQ(c.size(), n);
      for (std::size_t k = 0; k < n; ++k) {
         const auto a = static_cast<std::size_t>(c.s1_id[k] - kS1IdOffset);
         const auto b = static_cast<std::size_t>(c.s2_id[k] - kS2IdOffset);
         ASSERT_LT(a, s1.size()) << k;
         ASSERT_LT(b, s2.size()) << k;
         ASSERT_EQ(c.qS1[k], s1.qS1[a]) << k;
         ASSERT_EQ(c.wS1[k], s1.wS1[a]) << k;
         ASSERT_EQ(c.S1TBA[k], s1.S1TBA[a]) << k;
         ASSERT_EQ(c.S1NPeaks[k], s1.S1NPeaks[a]) << k;
         ASSERT_EQ(c.S1LargestBCQ[k], s1.S1LargestBCQ[a]) << k;
         ASSERT_EQ(c.qS2[k], s2.qS2[b]) << k;
         ASSERT_EQ(c.wS2[k], s2.wS2[b]) << k;
         ASSERT_EQ(c.wtenS2[k], s2.wtenS2[b]) << k;
         ASSERT_EQ(c.S2TBA[k], s2.S2TBA[b]) << k;
         ASSERT_EQ(c.S2SY1[k], s2.S2SY1[b]) << k;
         ASSERT_EQ(c.S2SY2[k], s2.S2SY2[b]) << k;
         ASSERT_EQ(c.x[k], s2.x[b]) << k;
         ASSERT_EQ(c.y[k], s2.y[b]) << k;
         // docs/event-model.md §3: run of the paired S2, event = pair index
         ASSERT_EQ(c.run[k], s2.run[b]) << k;
         ASSERT_EQ(c.event[k], k);
         // constant columns of an accidental
         ASSERT_EQ(c.sample[k], 2);
         ASSERT_EQ(c.recoil_type[k], 2);
         ASSERT_EQ(c.energy_true[k], -1.f);
         ASSERT_EQ(c.weight[k], 0.125f);
         ASSERT_EQ(c.below_nr_median[k], 0u) << "no NR median set";
      }
      if (withReplacement) {
         // with replacement every S1 and S2 gets drawn (5000 draws over 500 / 300 signals)
         EXPECT_EQ(std::set<Long64_t>(c.s1_id.begin(), c.s1_id.end()).size(), 500u);
         EXPECT_EQ(std::set<Long64_t>(c.s2_id.begin(), c.s2_id.end()).size(), 300u);
      }
   }
}

TEST(AccidentalPairer, DriftTimesUniformOverTheWindow)
{
   const AccidentalPairer p(makeS1(50), makeS2(50), simpleCorrections(), options(2024));
   const std::size_t n = 20000;
   const PairedColumns c = p.pair(0, n);
   std::vector<double> t(c.drift_time.begin(), c.drift_time.end());
   for (double v : t) {
      ASSERT_GE(v, 18.);
      ASSERT_LE(v, 310.);
   }
   std::sort(t.begin(), t.end());
   double d = 0.;
   for (std::size_t i = 0; i < n; ++i) {
      const double cdf = (t[i] - 18.) / (310. - 18.);
      d = std::max({d, static_cast<double>(i + 1) / n - cdf, cdf - static_cast<double>(i) / n});
   }
   EXPECT_LT(d, 1.63 / std::sqrt(static_cast<double>(n))) << "Kolmogorov-Smirnov D against U(18, 310)";
   // both halves of the window are populated evenly, nothing piles up at the edges
   EXPECT_LT(t.front(), 18. + 292. * 10. / n);
   EXPECT_GT(t.back(), 310. - 292. * 10. / n);
}

TEST(AccidentalPairer, DriftTimeHistogram)
{
   AccidentalPairer p(makeS1(50), makeS2(50), simpleCorrections(), options(3));
   // all weight in [100, 200) and three times more in [250, 300) ([200, 250) empty)
   p.setDriftTimeHistogram({50., 100., 200., 250., 300.}, {0., 1., 0., 3.});
   const PairedColumns c = p.pair(0, 8000);
   std::size_t inFirst = 0;
   for (float t : c.drift_time) {
      const bool first = t >= 100.f && t <= 200.f, second = t >= 250.f && t <= 300.f;
      ASSERT_TRUE(first || second) << t;
      inFirst += first;
   }
   EXPECT_NEAR(static_cast<double>(inFirst) / 8000., 0.25, 0.02);
   EXPECT_THROW(p.setDriftTimeHistogram({0., 1.}, {1., 2.}), UsageError);      // edges != bins + 1
   EXPECT_THROW(p.setDriftTimeHistogram({0., 1., 2.}, {1., -2.}), UsageError); // negative content
   EXPECT_THROW(p.setDriftTimeHistogram({0., 2., 1.}, {1., 1.}), UsageError);  // decreasing edges
   EXPECT_THROW(p.setDriftTimeHistogram({0., 1., 2.}, {0., 0.}), UsageError);  // empty
   EXPECT_THROW(p.setDriftTimeHistogram({-1., 1., 2.}, {1., 1.}), UsageError); // negative time
   EXPECT_THROW(p.setDriftTimeHistogram({}, {}), UsageError);                  // no bins
}

TEST(AccidentalPairer, RecomputesPositionDependentQuantities)
{
   const auto det = DetectorConfig::load("pandax2");
   const PositionCorrections corr(det);
   const auto s1 = makeS1(200);
   const auto s2 = makeS2(200);
   const AccidentalPairer p(s1, s2, corr, options(5));
   const PairedColumns c = p.pair(0, 3000);
   const double v = det.get("drift_velocity", "mm/us"), tau = det.get("electron_lifetime", "us");
   // float results computed in float / double arithmetic: a few ulp
   const double ulp2 = 4. * std::numeric_limits<float>::epsilon();
   for (std::size_t k = 0; k < c.size(); ++k) {
      const double t = c.drift_time[k];
      // z = -v_d t_d (docs/event-model.md)
      ASSERT_NEAR(c.z[k], -v * t, ulp2 * v * t) << k;
      ASSERT_NEAR(c.z[k], corr.depth(c.drift_time[k]), ulp2 * v * t) << k;
      // qS1c = qS1 / LCE_rel(x, y, z) at the S2's xy and the pair's depth
      const double want1 = c.qS1[k] / corr.s1Relative(c.x[k], c.y[k], c.z[k]);
      ASSERT_NEAR(c.qS1c[k], want1, ulp2 * want1) << k;
      // qS2c = qS2 exp(t / tau) / U_S2(x, y)
      const double want2 = c.qS2[k] * std::exp(t / tau) / corr.s2Relative(c.x[k], c.y[k]);
      ASSERT_NEAR(c.qS2c[k], want2, ulp2 * want2) << k;
      ASSERT_NEAR(c.qS2c[k], corr.qS2c(c.qS2[k], c.drift_time[k], c.x[k], c.y[k]), ulp2 * want2) << k;
   }
   // one S1 paired at several depths / positions gets a correction for each pair
   const Long64_t id = c.s1_id[0];
   std::set<float> corrected;
   for (std::size_t k = 0; k < c.size(); ++k)
      if (c.s1_id[k] == id)
         corrected.insert(c.qS1c[k]);
   EXPECT_GT(corrected.size(), 3u);
}

TEST(AccidentalPairer, CorrectionsBitForBitAsForPhysicalEvents)
{
   // An accidental event must be corrected exactly as a physical event with the same stored
   // columns (PositionCorrections::apply), to the last bit.
   const auto corr = simpleCorrections();
   const AccidentalPairer p(makeS1(500), makeS2(500), corr, options(21));
   const auto c = p.pair(0, 3000);
   std::vector<float> z(c.size()), q1(c.size()), q2(c.size());
   corr.apply(c.qS1.data(), c.qS2.data(), c.drift_time.data(), c.x.data(), c.y.data(), z.data(), q1.data(), q2.data(),
              c.size());
   EXPECT_EQ(c.z, z);
   EXPECT_EQ(c.qS1c, q1);
   EXPECT_EQ(c.qS2c, q2);
}

TEST(AccidentalPairer, BelowNRMedianFlag)
{
   // a flat median at log10(qS2c/qS1c) = 2: the flag is exactly that comparison
   const NRMedianCurve curve({3., 45.}, {2., 2.});
   AccidentalPairer p(makeS1(300), makeS2(300), simpleCorrections(), options(4));
   EXPECT_FALSE(std::any_of(p.pair(0, 100).below_nr_median.begin(), p.pair(0, 100).below_nr_median.end(),
                            [](std::uint8_t b) { return b != 0; })); // no curve: never flagged
   p.setNRMedian(curve);
   const auto c = p.pair(0, 5000);
   std::size_t nBelow = 0;
   for (std::size_t i = 0; i < c.size(); ++i) {
      const bool expected = std::log10(c.qS2c[i] / c.qS1c[i]) < 2.f;
      EXPECT_EQ(c.below_nr_median[i] != 0, expected) << "pair " << i;
      nBelow += expected;
   }
   EXPECT_GT(nBelow, 100u);
   EXPECT_LT(nBelow, c.size() - 100u);
}

TEST(AccidentalPairer, ReproducibleAcrossThreadsDoorsAndSlices)
{
   const auto s1 = makeS1(400);
   const auto s2 = makeS2(400);
   const auto corr = simpleCorrections();
   const AccidentalPairer p(s1, s2, corr, options(17));
   const auto ref = p.pair(0, 30000, 1);
   for (unsigned threads : {2u, 3u, 0u})
      expectSameColumns(p.pair(0, 30000, threads), ref);
   // a second pairer with the same seed, a slice, a reused buffer and the per-event kernel
   const AccidentalPairer q(s1, s2, corr, options(17));
   expectSameColumns(q.pair(12345, 5000, 2), ref, 12345);
   PairedColumns reused;
   q.pairInto(reused, 0, 30000, 2);
   q.pairInto(reused, 777, 1000, 1);
   expectSameColumns(reused, ref, 777);
   const auto e = q(29999);
   EXPECT_EQ(e.s1_id, ref.s1_id.back());
   EXPECT_EQ(e.s2_id, ref.s2_id.back());
   EXPECT_EQ(e.drift_time, ref.drift_time.back());
   EXPECT_EQ(e.qS2c, ref.qS2c.back());
   // another seed gives other pairs
   const auto other = AccidentalPairer(s1, s2, corr, options(18)).pair(0, 1000);
   EXPECT_NE(other.s1_id, slice(ref.s1_id, 0, 1000));
   EXPECT_NE(other.drift_time, slice(ref.drift_time, 0, 1000));
}

TEST(AccidentalPairer, WithoutReplacementUsesEachSignalOnce)
{
   const AccidentalPairer p(makeS1(700), makeS2(500), simpleCorrections(), options(9, false));
   EXPECT_EQ(p.maxPairs(), 500u);
   const auto c = p.pair(0, 500, 2);
   EXPECT_EQ(std::set<Long64_t>(c.s1_id.begin(), c.s1_id.end()).size(), 500u);
   EXPECT_EQ(std::set<Long64_t>(c.s2_id.begin(), c.s2_id.end()).size(), 500u); // every S2 exactly once
   expectSameColumns(p.pair(0, 500, 1), c);
   const std::string msg = messageOf<UsageError>([&] { p.pair(0, 501); });
   EXPECT_NE(msg.find("min(N_S1, N_S2) = 500"), std::string::npos) << msg;
   EXPECT_THROW(p(500), UsageError);
}

TEST(AccidentalPairer, KernelBeyondTheLastIndexThrows)
{
   const AccidentalPairer p(makeS1(10), makeS2(10), simpleCorrections(), options(1, false));
   const ULong64_t last = std::numeric_limits<ULong64_t>::max();
   EXPECT_THROW(p(last), UsageError);
   EXPECT_THROW(p.pair(last, 1), UsageError);
   EXPECT_THROW(p.dataFrame(1, last), UsageError);
}

TEST(AccidentalPairer, ValidationErrorsNameTheProblem)
{
   const auto s1 = makeS1(20);
   const auto s2 = makeS2(20);
   const auto corr = simpleCorrections();
   auto make = [&](const IsolatedS1Table &a, const IsolatedS2Table &b, const AccidentalPairer::Options &o) {
      return [&a, &b, &corr, o] { AccidentalPairer(a, b, corr, o); };
   };
   const IsolatedS1Table noS1;
   const IsolatedS2Table noS2;
   EXPECT_NE(messageOf<UsageError>(make(noS1, s2, options(1))).find("isolated S1 population is empty"),
             std::string::npos);
   EXPECT_NE(messageOf<UsageError>(make(s1, noS2, options(1))).find("isolated S2 population is empty"),
             std::string::npos);

   auto badS1 = s1;
   badS1.qS1[3] = std::numeric_limits<float>::quiet_NaN();
   std::string msg = messageOf<UsageError>(make(badS1, s2, options(1)));
   EXPECT_NE(msg.find("'qS1' entry 3"), std::string::npos) << msg;
   badS1 = s1;
   badS1.S1LargestBCQ[0] = std::numeric_limits<float>::infinity();
   msg = messageOf<UsageError>(make(badS1, s2, options(1)));
   EXPECT_NE(msg.find("'S1LargestBCQ' entry 0"), std::string::npos) << msg;
   auto badS2 = s2;
   badS2.y[19] = std::numeric_limits<float>::quiet_NaN();
   msg = messageOf<UsageError>(make(s1, badS2, options(1)));
   EXPECT_NE(msg.find("isolated S2 branch 'y' entry 19"), std::string::npos) << msg;
   badS2 = s2;
   badS2.wtenS2[5] = -std::numeric_limits<float>::infinity();
   msg = messageOf<UsageError>(make(s1, badS2, options(1)));
   EXPECT_NE(msg.find("'wtenS2' entry 5"), std::string::npos) << msg;

   // column lengths
   badS1 = s1;
   badS1.wS1.pop_back();
   msg = messageOf<UsageError>(make(badS1, s2, options(1)));
   EXPECT_NE(msg.find("'wS1' has 19 entries, expected 20"), std::string::npos) << msg;
   badS1 = s1;
   badS1.id.clear();
   EXPECT_THROW(make(badS1, s2, options(1))(), UsageError);
   badS2 = s2;
   badS2.run.push_back(1u);
   EXPECT_THROW(make(s1, badS2, options(1))(), UsageError);

   // drift window
   for (auto [lo, hi] : std::vector<std::pair<double, double>>{
            {100., 100.}, {200., 100.}, {-5., 100.}, {std::nan(""), 100.}, {0., HUGE_VAL}}) {
      AccidentalPairer::Options o = options(1);
      o.driftTimeMin = lo;
      o.driftTimeMax = hi;
      msg = messageOf<UsageError>(make(s1, s2, o));
      EXPECT_NE(msg.find("drift window"), std::string::npos) << lo << " " << hi << ": " << msg;
   }
   AccidentalPairer::Options o = options(1);
   o.driftTimeMin = 0.;
   o.driftTimeMax = 1e-3;
   EXPECT_NO_THROW(make(s1, s2, o)());

   // weight
   for (float w : {-1.f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      o = options(1);
      o.weight = w;
      msg = messageOf<UsageError>(make(s1, s2, o));
      EXPECT_NE(msg.find("weight"), std::string::npos) << w << ": " << msg;
   }
   o = options(1);
   o.weight = 0.f;
   EXPECT_NO_THROW(make(s1, s2, o)());
}

TEST(AccidentalPairer, S2ColumnLengthErrorNamesTheColumn)
{
   auto s2 = makeS2(20);
   s2.wS2.pop_back();
   const std::string msg =
       messageOf<UsageError>([&] { AccidentalPairer(makeS1(20), s2, simpleCorrections(), options(1)); });
   EXPECT_NE(msg.find("'wS2' has 19 entries, expected 20"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- doors and schema

TEST(AccidentalPairer, ViewsMatchColumnNames)
{
   const auto names = AccidentalPairer::columnNames();
   const std::vector<std::string> expected{"run",   "event", "sample",   "recoil_type",  "s1_id",
                                           "s2_id", "qS1",   "qS2",      "qS1c",         "qS2c",
                                           "wS1",   "wS2",   "wtenS2",   "S1TBA",        "S2TBA",
                                           "S2SY1", "S2SY2", "S1NPeaks", "S1LargestBCQ", "drift_time",
                                           "x",     "y",     "z",        "energy_true",  "below_nr_median",
                                           "weight"};
   EXPECT_EQ(names, expected);
   const AccidentalPairer p(makeS1(30), makeS2(30), simpleCorrections(), options(4));
   const PairedColumns c = p.pair(10, 123);
   const auto views = c.views();
   ASSERT_EQ(views.size(), names.size());
   for (std::size_t k = 0; k < views.size(); ++k) {
      EXPECT_EQ(views[k].name, names[k]);
      EXPECT_EQ(views[k].size, 123u) << views[k].name;
      EXPECT_NE(views[k].data, nullptr) << views[k].name;
      EXPECT_NO_THROW(leafTypeSize(views[k].type)) << views[k].name;
   }
   EXPECT_EQ(views[1].data, static_cast<const void *>(c.event.data()));
   EXPECT_EQ(views[6].data, static_cast<const void *>(c.qS1.data()));
   // the dataframe has every column of the schema
   auto df = p.dataFrame(5);
   for (const auto &name : names)
      EXPECT_TRUE(df.HasColumn(name)) << name;
   EXPECT_EQ(df.GetColumnType("event"), "ULong64_t");
   EXPECT_EQ(df.GetColumnType("qS1"), "float");
   EXPECT_EQ(df.GetColumnType("s1_id"), "Long64_t");
}

TEST(AccidentalPairer, WrittenEventsTreeReadsBack)
{
   test::TempDir tmp;
   const auto s1 = makeS1(100);
   const auto s2 = makeS2(100);
   AccidentalPairer::Options o = options(12);
   o.weight = 0.25f;
   const AccidentalPairer p(s1, s2, simpleCorrections(), o);
   const PairedColumns c = p.pair(0, 321);
   TreeFileContents contents;
   contents.trees.push_back({"events", c.views()});
   const std::string path = tmp.path("acc.root");
   writeTreeFile(path, contents);
   const TreeSummary s = describeTree(path, "events");
   EXPECT_EQ(s.entries, 321);
   std::vector<std::string> written, names = AccidentalPairer::columnNames();
   for (const auto &col : s.columns)
      written.push_back(col.name);
   std::sort(written.begin(), written.end());
   std::sort(names.begin(), names.end());
   EXPECT_EQ(written, names);
   ROOT::RDataFrame df("events", path);
   auto q2c = df.Take<float>("qS2c");
   auto ev = df.Take<ULong64_t>("event");
   auto id = df.Take<Long64_t>("s2_id");
   auto below = df.Take<bool>("below_nr_median");
   auto w = df.Take<float>("weight");
   auto sample = df.Take<int>("sample");
   EXPECT_EQ(*q2c, c.qS2c);
   EXPECT_EQ(*ev, c.event);
   EXPECT_EQ(*id, c.s2_id);
   EXPECT_EQ(*w, c.weight);
   EXPECT_EQ(*sample, c.sample);
   ASSERT_EQ(below->size(), c.size());
   for (std::size_t k = 0; k < c.size(); ++k)
      EXPECT_EQ((*below)[k], c.below_nr_median[k] != 0);
}

namespace {
void expectDataFrameMatches(const AccidentalPairer &p, ULong64_t n, ULong64_t first)
{
   auto df = p.dataFrame(n, first);
   auto ev = df.Take<ULong64_t>("event");
   auto s1 = df.Take<Long64_t>("s1_id");
   auto s2 = df.Take<Long64_t>("s2_id");
   auto qS1 = df.Take<float>("qS1");
   auto qS1c = df.Take<float>("qS1c");
   auto qS2c = df.Take<float>("qS2c");
   auto t = df.Take<float>("drift_time");
   auto z = df.Take<float>("z");
   auto x = df.Take<float>("x");
   auto below = df.Take<bool>("below_nr_median");
   auto w = df.Take<float>("weight");
   auto e = df.Take<float>("energy_true");
   auto sample = df.Take<int>("sample");
   auto run = df.Take<UInt_t>("run");
   const PairedColumns c = p.pair(first, static_cast<std::size_t>(n));
   ASSERT_EQ(ev->size(), n);
   // order of the entries may differ under implicit MT: sort by event
   std::vector<std::size_t> order(n);
   std::iota(order.begin(), order.end(), std::size_t{0});
   std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return (*ev)[a] < (*ev)[b]; });
   for (std::size_t k = 0; k < n; ++k) {
      const std::size_t r = order[k];
      ASSERT_EQ((*ev)[r], first + k);
      ASSERT_EQ((*s1)[r], c.s1_id[k]) << k;
      ASSERT_EQ((*s2)[r], c.s2_id[k]) << k;
      ASSERT_EQ((*qS1)[r], c.qS1[k]) << k;
      ASSERT_EQ((*qS1c)[r], c.qS1c[k]) << k;
      ASSERT_EQ((*qS2c)[r], c.qS2c[k]) << k;
      ASSERT_EQ((*t)[r], c.drift_time[k]) << k;
      ASSERT_EQ((*z)[r], c.z[k]) << k;
      ASSERT_EQ((*x)[r], c.x[k]) << k;
      ASSERT_EQ((*below)[r], c.below_nr_median[k] != 0) << k;
      ASSERT_EQ((*w)[r], c.weight[k]) << k;
      ASSERT_EQ((*e)[r], -1.f) << k;
      ASSERT_EQ((*sample)[r], 2) << k;
      ASSERT_EQ((*run)[r], c.run[k]) << k;
   }
}
} // namespace

TEST(AccidentalPairer, DataFrameDoorEqualsBatchDoor)
{
   AccidentalPairer::Options o = options(77);
   o.weight = 0.5f;
   AccidentalPairer p(makeS1(400), makeS2(400), simpleCorrections(), o);
   p.setNRMedian(NRMedianCurve({1., 100.}, {1.8, 1.8}));
   expectDataFrameMatches(p, 3000, 0);
   expectDataFrameMatches(p, 1000, 4321);
   ROOT::EnableImplicitMT(2);
   expectDataFrameMatches(p, 20000, 17);
   ROOT::DisableImplicitMT();
   // without replacement
   const AccidentalPairer w(makeS1(400), makeS2(300), simpleCorrections(), options(77, false));
   expectDataFrameMatches(w, 300, 0);
   expectDataFrameMatches(w, 50, 250);
}

TEST(IsolatedTables, FromTreeRoundTrip)
{
   test::TempDir tmp;
   const auto s1 = makeS1(57);
   const auto s2 = makeS2(43);
   // S1 tree with ids and runs; qS1 stored as double (cast back to float on reading)
   std::vector<double> qS1d(s1.qS1.begin(), s1.qS1.end());
   TreeFileContents c;
   c.trees.push_back({"s1",
                      {{"qS1", 'D', qS1d.data(), qS1d.size()},
                       {"wS1", 'F', s1.wS1.data(), s1.size()},
                       {"S1TBA", 'F', s1.S1TBA.data(), s1.size()},
                       {"S1NPeaks", 'I', s1.S1NPeaks.data(), s1.size()},
                       {"S1LargestBCQ", 'F', s1.S1LargestBCQ.data(), s1.size()},
                       {"s1_id", 'L', s1.id.data(), s1.size()},
                       {"run", 'i', s1.run.data(), s1.size()}}});
   // S2 tree without s2_id / run: defaults entry number / 0
   c.trees.push_back({"s2",
                      {{"qS2", 'F', s2.qS2.data(), s2.size()},
                       {"wS2", 'F', s2.wS2.data(), s2.size()},
                       {"wtenS2", 'F', s2.wtenS2.data(), s2.size()},
                       {"S2TBA", 'F', s2.S2TBA.data(), s2.size()},
                       {"S2SY1", 'F', s2.S2SY1.data(), s2.size()},
                       {"S2SY2", 'F', s2.S2SY2.data(), s2.size()},
                       {"x", 'F', s2.x.data(), s2.size()},
                       {"y", 'F', s2.y.data(), s2.size()}}});
   c.trees.push_back({"broken", {{"qS2", 'F', s2.qS2.data(), s2.size()}, {"wS2", 'F', s2.wS2.data(), s2.size()}}});
   const std::string path = tmp.path("isolated.root");
   writeTreeFile(path, c);

   const auto r1 = IsolatedS1Table::fromTree(path);
   EXPECT_EQ(r1.qS1, s1.qS1);
   EXPECT_EQ(r1.wS1, s1.wS1);
   EXPECT_EQ(r1.S1TBA, s1.S1TBA);
   EXPECT_EQ(r1.S1NPeaks, s1.S1NPeaks);
   EXPECT_EQ(r1.S1LargestBCQ, s1.S1LargestBCQ);
   EXPECT_EQ(r1.id, s1.id);
   EXPECT_EQ(r1.run, s1.run);
   const auto r2 = IsolatedS2Table::fromTree(path, "s2");
   EXPECT_EQ(r2.qS2, s2.qS2);
   EXPECT_EQ(r2.wtenS2, s2.wtenS2);
   EXPECT_EQ(r2.x, s2.x);
   EXPECT_EQ(r2.y, s2.y);
   ASSERT_EQ(r2.id.size(), s2.size());
   for (std::size_t i = 0; i < s2.size(); ++i)
      EXPECT_EQ(r2.id[i], static_cast<Long64_t>(i));
   EXPECT_EQ(r2.run, std::vector<UInt_t>(s2.size(), 0u));
   EXPECT_EQ(IsolatedS1Table::requiredBranches(),
             (std::vector<std::string>{"qS1", "wS1", "S1TBA", "S1NPeaks", "S1LargestBCQ"}));
   EXPECT_EQ(IsolatedS2Table::requiredBranches(),
             (std::vector<std::string>{"qS2", "wS2", "wtenS2", "S2TBA", "S2SY1", "S2SY2", "x", "y"}));

   const std::string msg = messageOf<InputError>([&] { IsolatedS2Table::fromTree(path, "broken"); });
   EXPECT_NE(msg.find("tree 'broken'"), std::string::npos) << msg;
   EXPECT_NE(msg.find(path), std::string::npos) << msg;
   EXPECT_NE(msg.find("'wtenS2'"), std::string::npos) << msg;
   EXPECT_THROW(IsolatedS1Table::fromTree(path, "s3"), InputError);
   EXPECT_THROW(IsolatedS1Table::fromTree(tmp.path("missing.root")), InputError);
}
