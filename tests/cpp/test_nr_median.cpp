// NRMedianCurve: fit on a known distribution, evaluation, below(), file round trip.
#include "TempDir.h"

#include "tpcml/core/Error.h"
#include "tpcml/lxe/NRMedian.h"
#include "tpcml/core/RootIO.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace tpcml;

namespace {

constexpr double kA = 2.1, kB = -0.35, kSigma = 0.1;

double trueMedian(double s1)
{
   return kA + kB * std::log(s1);
}

/// qS1c uniform in [3, 45] PE, log10(qS2c/qS1c) = a + b ln(qS1c) + Gaussian(0, sigma).
struct Sample {
   std::vector<float> s1, s2;
};

Sample drawSample(std::size_t n, std::uint64_t seed)
{
   std::mt19937_64 rng(seed);
   std::uniform_real_distribution<double> u(3., 45.);
   std::normal_distribution<double> noise(0., kSigma);
   Sample s;
   for (std::size_t i = 0; i < n; ++i) {
      const double s1 = u(rng);
      const double y = trueMedian(s1) + noise(rng);
      s.s1.push_back(static_cast<float>(s1));
      s.s2.push_back(static_cast<float>(s1 * std::pow(10., y)));
   }
   return s;
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

} // namespace

TEST(NRMedianCurve, FitRecoversKnownMedian)
{
   const Sample s = drawSample(20000, 20240611);
   const auto curve = NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45.);
   ASSERT_FALSE(curve.empty());
   EXPECT_EQ(curve.knotsX().size(), 64u);
   EXPECT_EQ(curve.knotsY().size(), 64u);
   ASSERT_EQ(curve.binX().size(), 20u);
   ASSERT_EQ(curve.binY().size(), 20u);
   // knots span the bin medians of qS1c; the bins hold equal numbers of events (1000 each)
   EXPECT_DOUBLE_EQ(curve.knotsX().front(), curve.binX().front());
   EXPECT_DOUBLE_EQ(curve.knotsX().back(), curve.binX().back());
   EXPECT_NEAR(curve.binX().front(), 3. + 42. / 40., 0.3);
   EXPECT_NEAR(curve.binX().back(), 45. - 42. / 40., 0.3);
   for (std::size_t b = 0; b < curve.binX().size(); ++b)
      EXPECT_NEAR(curve.binY()[b], trueMedian(curve.binX()[b]), 0.02) << "bin " << b;
   for (double s1 : {4.5, 5., 8., 12., 17.5, 20., 30., 40., 43.})
      EXPECT_NEAR(curve(s1), trueMedian(s1), 0.01) << "qS1c = " << s1;
   // constant beyond the fitted range
   EXPECT_DOUBLE_EQ(curve(1.), curve.knotsY().front());
   EXPECT_DOUBLE_EQ(curve(1000.), curve.knotsY().back());
}

TEST(NRMedianCurve, FitIgnoresEventsOutsideRangeAndNonPositiveS2)
{
   Sample s = drawSample(5000, 7);
   const auto ref = NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45.);
   // events outside [s1Min, s1Max] and with qS2c <= 0 must not change the fit
   for (int i = 0; i < 300; ++i) {
      s.s1.push_back(60.f + static_cast<float>(i));
      s.s2.push_back(1e6f);
      s.s1.push_back(1.f);
      s.s2.push_back(1e-3f);
      s.s1.push_back(20.f);
      s.s2.push_back(i % 2 ? 0.f : -5.f);
   }
   const auto withOutliers = NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45.);
   EXPECT_EQ(withOutliers.knotsX(), ref.knotsX());
   EXPECT_EQ(withOutliers.knotsY(), ref.knotsY());
}

TEST(NRMedianCurve, BelowSeparatesPointsAroundTheCurve)
{
   const Sample s = drawSample(20000, 99);
   const auto curve = NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45.);
   std::vector<float> q1, q2;
   std::vector<bool> expectBelow;
   for (double s1 : {5., 10., 15., 25., 35., 42.})
      for (double dy : {-0.5, -0.05, 0.05, 0.5}) {
         const double y = curve(s1) + dy;
         q1.push_back(static_cast<float>(s1));
         q2.push_back(static_cast<float>(s1 * std::pow(10., y)));
         expectBelow.push_back(dy < 0.);
      }
   for (std::size_t i = 0; i < q1.size(); ++i)
      EXPECT_EQ(curve.below(q1[i], q2[i]), expectBelow[i]) << "qS1c " << q1[i] << " qS2c " << q2[i];
   // batch form equals the scalar one
   std::unique_ptr<bool[]> out(new bool[q1.size()]);
   curve.below(q1.data(), q2.data(), out.get(), q1.size());
   for (std::size_t i = 0; i < q1.size(); ++i)
      EXPECT_EQ(out[i], expectBelow[i]) << i;
   // non-positive or NaN charges are never below
   const float nan = std::numeric_limits<float>::quiet_NaN();
   EXPECT_FALSE(curve.below(0.f, 1.f));
   EXPECT_FALSE(curve.below(10.f, 0.f));
   EXPECT_FALSE(curve.below(-10.f, 1.f));
   EXPECT_FALSE(curve.below(10.f, -1.f));
   EXPECT_FALSE(curve.below(nan, 1.f));
   EXPECT_FALSE(curve.below(10.f, nan));
   // about half of the NR sample itself lies below its median
   std::size_t nBelow = 0;
   for (std::size_t i = 0; i < s.s1.size(); ++i)
      nBelow += curve.below(s.s1[i], s.s2[i]);
   EXPECT_NEAR(static_cast<double>(nBelow) / static_cast<double>(s.s1.size()), 0.5, 0.02);
}

// below() settles most events with an approximate log10 and falls back to the exact float
// log10 near the line: its answer must be the exact comparison's for every input.
TEST(NRMedianCurve, BelowEqualsTheExactComparison)
{
   const Sample s = drawSample(20000, 7);
   const auto curve = NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45.);
   std::mt19937_64 rng(3);
   std::uniform_real_distribution<double> s1(0.5, 60.), dy(-1.5, 1.5), tiny(-3e-4, 3e-4);
   const auto exact = [&](float a, float b) { return a > 0.f && b > 0.f && std::log10(b / a) < curve(a); };
   std::size_t near = 0;
   for (int i = 0; i < 200000; ++i) {
      const double a = s1(rng);
      const double y = curve(a) + (i % 2 ? dy(rng) : tiny(rng)); // half of them right at the line
      const float q1 = static_cast<float>(a), q2 = static_cast<float>(a * std::pow(10., y));
      near += std::abs(y - curve(a)) < 1e-3;
      ASSERT_EQ(curve.below(q1, q2), exact(q1, q2)) << "qS1c " << q1 << " qS2c " << q2;
   }
   EXPECT_GT(near, 90000u);
   // ratios the approximation does not take: subnormal, huge, infinite
   for (float q2 : {1e-40f, 3e38f, std::numeric_limits<float>::infinity()})
      EXPECT_EQ(curve.below(10.f, q2), exact(10.f, q2)) << q2;
}

TEST(NRMedianCurve, KnotInterpolation)
{
   // non-uniform knots: linear between knots, constant outside
   const NRMedianCurve c({2., 4., 10.}, {1., 3., 0.});
   EXPECT_DOUBLE_EQ(c(2.), 1.);
   EXPECT_DOUBLE_EQ(c(3.), 2.);
   EXPECT_DOUBLE_EQ(c(4.), 3.);
   EXPECT_DOUBLE_EQ(c(7.), 1.5);
   EXPECT_DOUBLE_EQ(c(10.), 0.);
   EXPECT_DOUBLE_EQ(c(0.5), 1.);
   EXPECT_DOUBLE_EQ(c(50.), 0.);
   // uniform knots (fast path) give the same linear interpolation
   std::vector<double> x, y;
   for (int k = 0; k <= 40; ++k) {
      x.push_back(3. + 0.75 * k);
      y.push_back(std::sin(0.3 * k));
   }
   const NRMedianCurve u(x, y);
   for (int k = 0; k < 40; ++k)
      for (double f : {0., 0.25, 0.5, 0.999}) {
         const double s1 = x[static_cast<std::size_t>(k)] + f * 0.75;
         const double want =
             y[static_cast<std::size_t>(k)] + f * (y[static_cast<std::size_t>(k) + 1] - y[static_cast<std::size_t>(k)]);
         EXPECT_NEAR(u(s1), want, 1e-12) << s1;
      }
   EXPECT_DOUBLE_EQ(u(x.back()), y.back());
}

TEST(NRMedianCurve, InvalidKnotsAndEmptyCurve)
{
   EXPECT_THROW(NRMedianCurve({1., 2.}, {1.}), ConfigError);
   EXPECT_THROW(NRMedianCurve({1.}, {1.}), ConfigError);
   EXPECT_THROW(NRMedianCurve({1., 1.}, {1., 2.}), ConfigError);
   EXPECT_THROW(NRMedianCurve({2., 1.}, {1., 2.}), ConfigError);
   EXPECT_THROW(NRMedianCurve({1., std::nan("")}, {1., 2.}), ConfigError);
   EXPECT_THROW(NRMedianCurve({1., 2.}, {1., HUGE_VAL}), ConfigError);
   const NRMedianCurve empty;
   EXPECT_TRUE(empty.empty());
   EXPECT_THROW(empty(10.), UsageError);
   test::TempDir tmp;
   EXPECT_THROW(empty.writeTo(tmp.path("c.root")), UsageError);
}

TEST(NRMedianCurve, FitErrorsNameTheProblem)
{
   const Sample s = drawSample(2000, 3);
   // 20 bins x 20 events needed: 399 events in range is too few
   const std::string few = messageOf<UsageError>([&] { NRMedianCurve::fit(s.s1.data(), s.s2.data(), 399, 3., 45.); });
   EXPECT_NE(few.find("399 NR events"), std::string::npos) << few;
   EXPECT_NE(few.find("need at least 400"), std::string::npos) << few;
   EXPECT_NO_THROW(NRMedianCurve::fit(s.s1.data(), s.s2.data(), 400, 3., 45.));
   EXPECT_THROW(NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 45., 3.), UsageError);
   EXPECT_THROW(NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45., 3), UsageError);
   EXPECT_THROW(NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45., 20, 1), UsageError);
   std::vector<float> s2 = s.s2;
   s2[17] = std::numeric_limits<float>::quiet_NaN();
   const std::string nan =
       messageOf<UsageError>([&] { NRMedianCurve::fit(s.s1.data(), s2.data(), s2.size(), 3., 45.); });
   EXPECT_NE(nan.find("event 17"), std::string::npos) << nan;
}

TEST(NRMedianCurve, FileRoundTrip)
{
   test::TempDir tmp;
   const std::string path = tmp.path("median.root");
   const Sample s = drawSample(20000, 5);
   const auto curve = NRMedianCurve::fit(s.s1.data(), s.s2.data(), s.s1.size(), 3., 45.);
   curve.writeTo(path);
   const NRMedianCurve other({1., 50.}, {0.5, 0.25});
   other.writeTo(path, "other_curve"); // UPDATE mode: the first curve stays
   const auto back = NRMedianCurve::fromFile(path);
   EXPECT_EQ(back.knotsX(), curve.knotsX());
   EXPECT_EQ(back.knotsY(), curve.knotsY());
   for (double s1 : {1., 3., 4.2, 7.77, 15., 29.9, 44., 100.})
      EXPECT_EQ(back(s1), curve(s1)) << s1;
   for (std::size_t i = 0; i < 2000; ++i)
      EXPECT_EQ(back.below(s.s1[i], s.s2[i]), curve.below(s.s1[i], s.s2[i])) << i;
   const auto back2 = NRMedianCurve::fromFile(path, "other_curve");
   EXPECT_EQ(back2.knotsX(), other.knotsX());
   EXPECT_EQ(back2.knotsY(), other.knotsY());
   // overwriting a key keeps one curve under it
   other.writeTo(path);
   EXPECT_EQ(NRMedianCurve::fromFile(path).knotsY(), other.knotsY());
}

TEST(NRMedianCurve, FromFileErrorsNameFileAndKey)
{
   test::TempDir tmp;
   const std::string missing = tmp.path("no-such-file.root");
   const std::string m1 = messageOf<InputError>([&] { NRMedianCurve::fromFile(missing); });
   EXPECT_NE(m1.find(missing), std::string::npos) << m1;

   const std::string path = tmp.path("median.root");
   NRMedianCurve({1., 2., 3.}, {0., 1., 2.}).writeTo(path, "tpcml_nr_median");
   const std::string m2 = messageOf<InputError>([&] { NRMedianCurve::fromFile(path, "tpcml_nr_medain"); });
   EXPECT_NE(m2.find(path), std::string::npos) << m2;
   EXPECT_NE(m2.find("'tpcml_nr_medain'"), std::string::npos) << m2;
   EXPECT_NE(m2.find("tpcml_nr_median"), std::string::npos) << m2; // the keys that are there

   // a key holding another class is not a curve
   const std::string named = tmp.path("named.root");
   const std::vector<float> v{1.f};
   TreeFileContents c;
   c.trees.push_back({"t", {{"v", 'F', v.data(), v.size()}}});
   c.named.push_back({"tpcml_nr_median", "not a graph"});
   writeTreeFile(named, c);
   const std::string m3 = messageOf<InputError>([&] { NRMedianCurve::fromFile(named); });
   EXPECT_NE(m3.find(named), std::string::npos) << m3;
   EXPECT_NE(m3.find("tpcml_nr_median"), std::string::npos) << m3;
}
