// LXeOptics, PositionCorrections, LXeResponse on the pandax2 registry detector.
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/lxe/LXeOptics.h"
#include "tpcml/lxe/LXeResponse.h"
#include "tpcml/lxe/PositionCorrections.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace tpcml;

namespace {

constexpr double kPi = 3.14159265358979323846;

double mean(const std::vector<float> &v)
{
   double s = 0.;
   for (float x : v)
      s += x;
   return s / static_cast<double>(v.size());
}

double mean(const std::vector<int> &v)
{
   double s = 0.;
   for (int x : v)
      s += x;
   return s / static_cast<double>(v.size());
}

double topFraction(const std::vector<double> &p, std::size_t nTop)
{
   const double top = std::accumulate(p.begin(), p.begin() + static_cast<long>(nTop), 0.);
   return top / std::accumulate(p.begin(), p.end(), 0.);
}

/// Points uniform in the fiducial cylinder (r < rFid, z in [zBot, zTop]) on a regular grid.
template <class F> void forFiducialGrid(double rFid, double zBot, double zTop, int n, F f)
{
   for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
         const double x = -rFid + 2. * rFid * (i + 0.5) / n, y = -rFid + 2. * rFid * (j + 0.5) / n;
         if (x * x + y * y > rFid * rFid)
            continue;
         for (int k = 0; k < n; ++k)
            f(x, y, zBot + (zTop - zBot) * (k + 0.5) / n);
      }
}

/// FWHM of a box of width w convolved with a Gaussian of sigma s (both in us).
double boxGaussFwhm(double w, double s)
{
   auto phi = [](double u) { return 0.5 * std::erfc(-u / std::sqrt(2.)); };
   auto f = [&](double t) { return phi((t + 0.5 * w) / s) - phi((t - 0.5 * w) / s); };
   const double half = 0.5 * f(0.);
   double lo = 0., hi = w + 10. * s;
   for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (lo + hi);
      (f(mid) > half ? lo : hi) = mid;
   }
   return lo + hi;
}

} // namespace

// ---------------------------------------------------------------- LXeOptics

TEST(HexPmtArray, CountsSpacingAndRadius)
{
   for (std::size_t n : {1u, 7u, 19u, 37u, 55u, 61u, 100u}) {
      const double pitch = 85.;
      const PmtArray a = hexPmtArray(n, pitch);
      ASSERT_EQ(a.size(), n);
      ASSERT_EQ(a.y.size(), n);
      double rPrev = 0.;
      for (std::size_t i = 0; i < n; ++i) {
         const double r = std::hypot(a.x[i], a.y[i]);
         EXPECT_GE(r, rPrev - 1e-6) << "positions sorted by radius, n = " << n;
         rPrev = r;
         for (std::size_t j = i + 1; j < n; ++j)
            EXPECT_GE(std::hypot(a.x[i] - a.x[j], a.y[i] - a.y[j]), pitch * (1. - 1e-9)) << i << " " << j;
      }
   }
   EXPECT_EQ(hexPmtArray(1, 10.).x, std::vector<double>{0.});
   // 7 = centre + first ring at one pitch
   const PmtArray seven = hexPmtArray(7, 10.);
   for (std::size_t i = 1; i < 7; ++i)
      EXPECT_NEAR(std::hypot(seven.x[i], seven.y[i]), 10., 1e-9);
   // 55 = 61-position hexagon without its 6 corners (at 4 pitches): outermost at sqrt(13) pitches
   const PmtArray a55 = hexPmtArray(55, 85.);
   double rMax = 0.;
   for (std::size_t i = 0; i < 55; ++i)
      rMax = std::max(rMax, std::hypot(a55.x[i], a55.y[i]));
   EXPECT_NEAR(rMax, std::sqrt(13.) * 85., 1e-6);
   EXPECT_THROW(hexPmtArray(0, 85.), ConfigError);
   EXPECT_THROW(hexPmtArray(7, 0.), ConfigError);
   EXPECT_THROW(hexPmtArray(7, -1.), ConfigError);
}

TEST(LXeOptics, GeometryFromTheDetectorFile)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeOptics optics(det);
   EXPECT_EQ(optics.nTop(), static_cast<std::size_t>(det.getInt("n_pmt_top")));
   EXPECT_EQ(optics.nBottom(), static_cast<std::size_t>(det.getInt("n_pmt_bottom")));
   EXPECT_EQ(optics.nPmt(), optics.nTop() + optics.nBottom());
   const double radius = det.get("tpc_radius", "mm");
   EXPECT_DOUBLE_EQ(optics.tpcRadius(), radius);
   EXPECT_DOUBLE_EQ(optics.driftLength(), det.get("drift_length", "mm"));
   const double zs = det.get("liquid_level_above_gate", "mm");
   EXPECT_DOUBLE_EQ(optics.liquidSurface(), zs);
   EXPECT_DOUBLE_EQ(optics.s2EmissionZ(), zs + 0.5 * det.get("gas_gap", "mm"));
   EXPECT_DOUBLE_EQ(optics.top().z, zs + det.get("top_array_distance", "mm"));
   EXPECT_DOUBLE_EQ(optics.bottom().z, -det.get("drift_length", "mm") - det.get("bottom_array_distance", "mm"));
   EXPECT_DOUBLE_EQ(optics.top().cathodeRadius, 0.5 * det.get("pmt_photocathode_diameter", "mm"));
   for (const PmtArray *a : {&optics.top(), &optics.bottom()})
      for (std::size_t i = 0; i < a->size(); ++i)
         EXPECT_LT(std::hypot(a->x[i], a->y[i]), radius) << "PMT " << i << " outside the TPC";
   EXPECT_GT(optics.s2TopScale(), 0.);
}

TEST(LXeOptics, FresnelAndSolidAngle)
{
   const double n = 1.69;
   // normal incidence: T = 1 - ((n1 - n2) / (n1 + n2))^2, either direction
   const double r0 = (n - 1.) / (n + 1.);
   EXPECT_NEAR(LXeOptics::fresnelTransmission(n, 1., 1.), 1. - r0 * r0, 1e-12);
   EXPECT_NEAR(LXeOptics::fresnelTransmission(1., n, 1.), 1. - r0 * r0, 1e-12);
   // total internal reflection beyond the critical angle arcsin(1/n), none from the gas side
   const double cosCrit = std::sqrt(1. - 1. / (n * n));
   EXPECT_EQ(LXeOptics::fresnelTransmission(n, 1., cosCrit - 1e-3), 0.);
   EXPECT_GT(LXeOptics::fresnelTransmission(n, 1., cosCrit + 1e-3), 0.);
   EXPECT_GT(LXeOptics::fresnelTransmission(1., n, 0.05), 0.);
   EXPECT_NEAR(LXeOptics::fresnelTransmission(1., n, 0.), 0., 1e-12); // grazing
   for (double c = 0.; c <= 1.; c += 0.05) {
      const double t = LXeOptics::fresnelTransmission(n, 1., c);
      EXPECT_GE(t, 0.);
      EXPECT_LE(t, 1.);
   }
   // disc on axis: 2 pi (1 - d / sqrt(d^2 + a^2)); far away: pi a^2 cos / d^2; behind: 0
   EXPECT_NEAR(LXeOptics::discSolidAngle(32., 100., 1.), 2. * kPi * (1. - 100. / std::hypot(100., 32.)), 1e-12);
   EXPECT_NEAR(LXeOptics::discSolidAngle(1., 1e4, 0.5), kPi * 0.5 / 1e8, 1e-6 * kPi * 0.5 / 1e8);
   EXPECT_NEAR(LXeOptics::discSolidAngle(1e6, 1., 1.), 2. * kPi, 1e-5); // a half space
   EXPECT_EQ(LXeOptics::discSolidAngle(32., 100., 0.), 0.);
   EXPECT_EQ(LXeOptics::discSolidAngle(32., 100., -0.5), 0.);
}

TEST(LXeOptics, S1CollectionFractionsAndDepthDependence)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeOptics optics(det);
   const std::size_t nt = optics.nTop();
   for (double r : {0., 150., 260.}) {
      double prevTop = -1.;
      // steps of >= 125 mm: the straight-line critical-angle cut of the model makes the top fraction
      // jagged on a finer scale near the gate (PMTs entering / leaving the cone)
      for (double z : {-590., -450., -300., -150., -25.}) {
         std::vector<double> p(optics.nPmt());
         const double lce = optics.s1Collection(r, 0., z, p.data());
         double sum = 0.;
         for (double v : p) {
            EXPECT_GE(v, 0.);
            EXPECT_LE(v, 1.);
            sum += v;
         }
         EXPECT_NEAR(lce, sum, 1e-12);
         EXPECT_GT(lce, 0.);
         EXPECT_LT(lce, 1.) << "top + bottom collection at r " << r << " z " << z;
         EXPECT_EQ(optics.s1Collection(r, 0., z), p); // vector overload
         const double top = topFraction(p, nt);
         EXPECT_GT(top, prevTop) << "top fraction must rise towards the top array: r " << r << " z " << z;
         EXPECT_LT(top, 0.5) << "bottom array dominant (total internal reflection)";
         prevTop = top;
      }
   }
   // rotational symmetry of the hexagonal arrays (60 degrees): same LCE
   const double c = std::cos(kPi / 3.), s = std::sin(kPi / 3.);
   EXPECT_NEAR(
       optics.s1Collection(120., 40., -300., std::vector<double>(optics.nPmt()).data()),
       optics.s1Collection(120. * c - 40. * s, 120. * s + 40. * c, -300., std::vector<double>(optics.nPmt()).data()),
       1e-9);
}

TEST(LXeOptics, S2TopFractionMatchesDetector)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeOptics optics(det);
   const double target = det.get("s2_area_fraction_top");
   const double rFid = det.get("fiducial_radius", "mm");
   // mean top fraction over the fiducial area (a finer grid than the calibration's)
   double sum = 0.;
   int n = 0;
   std::vector<double> p(optics.nPmt());
   for (int i = 0; i < 60; ++i)
      for (int j = 0; j < 60; ++j) {
         const double x = -rFid + 2. * rFid * (i + 0.5) / 60., y = -rFid + 2. * rFid * (j + 0.5) / 60.;
         if (x * x + y * y > rFid * rFid)
            continue;
         const double total = optics.s2Collection(x, y, p.data());
         EXPECT_GT(total, 0.);
         EXPECT_LT(total, 1.);
         for (double v : p) {
            ASSERT_GE(v, 0.);
            ASSERT_LE(v, 1.);
         }
         sum += topFraction(p, optics.nTop());
         ++n;
      }
   EXPECT_NEAR(sum / n, target, 0.01 * target);
   // S2 light is made just below the top array: the brightest PMT is the top one above it
   const auto q = optics.s2Collection(2. * 85., 0.);
   const auto best = static_cast<std::size_t>(std::max_element(q.begin(), q.end()) - q.begin());
   ASSERT_LT(best, optics.nTop());
   EXPECT_NEAR(optics.top().x[best], 170., 1e-6);
   EXPECT_NEAR(optics.top().y[best], 0., 1e-6);
}

// ---------------------------------------------------------------- PositionCorrections

TEST(RegularGrid, TrilinearInterpolationAndClamping)
{
   // a multilinear function is reproduced exactly inside the grid
   RegularGrid g{-10., 10., 0., 4., -6., 0., 3, 5, 4, {}};
   auto f = [](double x, double y, double z) { return 5. + 0.1 * x + 0.2 * y - 0.3 * z + 0.01 * x * y * z; };
   for (int i = 0; i < g.nx; ++i)
      for (int j = 0; j < g.ny; ++j)
         for (int k = 0; k < g.nz; ++k)
            g.values.push_back(static_cast<float>(f(-10. + 10. * i, 1. * j, -6. + 2. * k)));
   EXPECT_NO_THROW(g.validate("test map"));
   for (double x : {-10., -3.3, 0., 7.5, 10.})
      for (double y : {0., 0.4, 2.5, 4.})
         for (double z : {-6., -4.1, -0.2, 0.})
            EXPECT_NEAR(g.eval(x, y, z), f(x, y, z), 2e-6) << x << " " << y << " " << z;
   // clamped outside
   EXPECT_NEAR(g.eval(-50., 2., -3.), f(-10., 2., -3.), 2e-6);
   EXPECT_NEAR(g.eval(3., 100., 5.), f(3., 4., 0.), 2e-6);
   // 2-D map (nz = 1): z ignored
   RegularGrid g2{0., 1., 0., 1., 0., 1., 2, 2, 1, {1.f, 2.f, 3.f, 4.f}};
   EXPECT_DOUBLE_EQ(g2.eval(0.5, 0.5), 2.5);
   EXPECT_DOUBLE_EQ(g2.eval(0.5, 0.5, 123.), 2.5);
   EXPECT_DOUBLE_EQ(g2.eval(1., 0.), 3.); // index (ix * ny + iy)
}

TEST(RegularGrid, ValidateNamesTheMap)
{
   RegularGrid g{0., 1., 0., 1., 0., 1., 2, 2, 1, {1.f, 1.f, 1.f}};
   try {
      g.validate("my S2 map");
      FAIL() << "wrong size accepted";
   } catch (const ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find("my S2 map"), std::string::npos) << e.what();
   }
   g.values = {1.f, 0.f, 1.f, 1.f};
   EXPECT_THROW(g.validate("m"), ConfigError);
   g.values = {1.f, -1.f, 1.f, 1.f};
   EXPECT_THROW(g.validate("m"), ConfigError);
   g.values = {1.f, std::numeric_limits<float>::quiet_NaN(), 1.f, 1.f};
   EXPECT_THROW(g.validate("m"), ConfigError);
   g.values = {1.f, 1.f, 1.f, 1.f};
   g.x1 = g.x0;
   EXPECT_THROW(g.validate("m"), ConfigError);
   g.x1 = 1.;
   g.nx = 0;
   EXPECT_THROW(g.validate("m"), ConfigError);
}

TEST(PositionCorrections, UserMapsFormulas)
{
   RegularGrid s1{-100., 100., -100., 100., -600., 0., 2, 2, 2, {0.5f, 1.5f, 0.5f, 1.5f, 0.5f, 1.5f, 0.5f, 1.5f}};
   RegularGrid s2{-100., 100., -100., 100., 0., 1., 2, 2, 1, {0.8f, 0.8f, 1.2f, 1.2f}};
   const PositionCorrections c(s1, s2, 800., 1.65);
   EXPECT_DOUBLE_EQ(c.lifetime(), 800.);
   EXPECT_DOUBLE_EQ(c.driftVelocity(), 1.65);
   EXPECT_DOUBLE_EQ(c.s1Relative(0., 0., -300.), 1.);
   EXPECT_DOUBLE_EQ(c.s1Relative(0., 0., 0.), 1.5);
   EXPECT_FLOAT_EQ(static_cast<float>(c.s2Relative(100., 0.)), 1.2f);
   EXPECT_FLOAT_EQ(c.depth(100.f), -165.f);
   EXPECT_FLOAT_EQ(c.qS1c(30.f, 0.f, 0.f, 0.f), 20.f);
   EXPECT_FLOAT_EQ(c.qS1c(30.f, 0.f, 0.f, -600.f), 60.f);
   EXPECT_NEAR(c.qS2c(1000.f, 400.f, 100.f, 0.f), 1000. * std::exp(0.5) / 1.2, 1e-3);
   EXPECT_FLOAT_EQ(c.qS2c(1000.f, 0.f, -100.f, 0.f), 1250.f);
   // batch form equals the scalar one; null outputs are skipped
   const std::vector<float> q1{10.f, 20.f, 5.f}, q2{500.f, 1e4f, 150.f}, t{18.f, 200.f, 310.f}, x{0.f, 50.f, -70.f},
       y{0.f, -20.f, 90.f};
   std::vector<float> z(3), c1(3), c2(3);
   c.apply(q1.data(), q2.data(), t.data(), x.data(), y.data(), z.data(), c1.data(), c2.data(), 3);
   for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(z[i], c.depth(t[i]));
      EXPECT_EQ(c1[i], c.qS1c(q1[i], x[i], y[i], z[i]));
      EXPECT_EQ(c2[i], c.qS2c(q2[i], t[i], x[i], y[i]));
   }
   std::vector<float> c2only(3);
   c.apply(q1.data(), q2.data(), t.data(), x.data(), y.data(), nullptr, nullptr, c2only.data(), 3);
   EXPECT_EQ(c2only, c2);
   // invalid user inputs
   EXPECT_THROW(PositionCorrections(s1, s1, 800., 1.65), ConfigError); // S2 map must be 2-D
   EXPECT_THROW(PositionCorrections(s1, s2, 0., 1.65), ConfigError);
   EXPECT_THROW(PositionCorrections(s1, s2, -1., 1.65), ConfigError);
   EXPECT_THROW(PositionCorrections(s1, s2, 800., 0.), ConfigError);
   EXPECT_THROW(PositionCorrections(s1, s2, std::nan(""), 1.65), ConfigError);
}

TEST(PositionCorrections, DetectorMapsNormalisedOverFiducialVolume)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeOptics optics(det);
   const PositionCorrections c(det, optics);
   EXPECT_DOUBLE_EQ(c.lifetime(), det.get("electron_lifetime", "us"));
   EXPECT_DOUBLE_EQ(c.driftVelocity(), det.get("drift_velocity", "mm/us"));
   const double v = c.driftVelocity(), rFid = det.get("fiducial_radius", "mm");
   const double zTop = -v * det.get("fiducial_drift_time_min", "us");
   const double zBot = -v * det.get("fiducial_drift_time_max", "us");
   double s1 = 0., s2 = 0., s1Min = 1e9, s1Max = 0.;
   int n = 0;
   forFiducialGrid(rFid, zBot, zTop, 23, [&](double x, double y, double z) {
      const double r = c.s1Relative(x, y, z);
      s1 += r;
      s1Min = std::min(s1Min, r);
      s1Max = std::max(s1Max, r);
      s2 += c.s2Relative(x, y);
      ++n;
   });
   EXPECT_NEAR(s1 / n, 1., 0.01);
   EXPECT_NEAR(s2 / n, 1., 0.01);
   EXPECT_GT(s1Max / s1Min, 1.01) << "the S1 light collection varies over the FV";
   // the map follows the optics model: ratios at grid nodes equal the LCE ratios
   const double r = optics.tpcRadius(), len = optics.driftLength();
   auto node = [&](int i, int j, int k) {
      return std::array<double, 3>{-r + 2. * r * i / 40., -r + 2. * r * j / 40., -len + len * k / 40.};
   };
   const auto a = node(20, 20, 20), b = node(28, 15, 3), d = node(12, 30, 38);
   std::vector<double> buf(optics.nPmt());
   const double lceA = optics.s1Collection(a[0], a[1], a[2], buf.data());
   for (const auto &p : {b, d})
      EXPECT_NEAR(c.s1Relative(p[0], p[1], p[2]) / c.s1Relative(a[0], a[1], a[2]),
                  optics.s1Collection(p[0], p[1], p[2], buf.data()) / lceA, 1e-5);
   // S2 map: the xy grid has 81 nodes over [-r, r]
   const double x2 = -r + 2. * r * 50 / 80., y2 = -r + 2. * r * 20 / 80.;
   EXPECT_NEAR(c.s2Relative(x2, y2) / c.s2Relative(0., 0.),
               optics.s2Collection(x2, y2, buf.data()) / optics.s2Collection(0., 0., buf.data()), 1e-5);
}

// ---------------------------------------------------------------- LXeResponse

TEST(LXeResponse, DeterministicForAFixedSeed)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const std::size_t n = 300;
   std::vector<float> x(n), y(n), z(n), t(n), sf(n, 0.25f);
   std::vector<int> nph(n), ne(n);
   for (std::size_t i = 0; i < n; ++i) {
      const double phi = 0.1 * static_cast<double>(i), r = 2.5 * static_cast<double>(i % 100);
      x[i] = static_cast<float>(r * std::cos(phi));
      y[i] = static_cast<float>(r * std::sin(phi));
      t[i] = static_cast<float>(10 + i);
      z[i] = -1.65f * t[i];
      nph[i] = static_cast<int>(20 + i % 50);
      ne[i] = static_cast<int>(5 + i % 40);
   }
   const S2Batch a = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, 42, 1);
   const S2Batch b = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, 42, 3);
   const S2Batch c = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, 43, 1);
   EXPECT_EQ(a.qS2, b.qS2);
   EXPECT_EQ(a.wS2, b.wS2);
   EXPECT_EQ(a.wtenS2, b.wtenS2);
   EXPECT_EQ(a.S2TBA, b.S2TBA);
   EXPECT_EQ(a.S2SY1, b.S2SY1);
   EXPECT_EQ(a.S2SY2, b.S2SY2);
   EXPECT_EQ(a.x, b.x);
   EXPECT_EQ(a.y, b.y);
   EXPECT_EQ(a.driftTime, b.driftTime);
   EXPECT_EQ(a.nElectrons, b.nElectrons);
   EXPECT_NE(a.qS2, c.qS2);
   // event i depends only on (seed, i): a shorter batch gives the same first events
   const S2Batch head = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), 10, 42, 1);
   EXPECT_EQ(head.qS2, std::vector<float>(a.qS2.begin(), a.qS2.begin() + 10));
   EXPECT_EQ(head.wS2, std::vector<float>(a.wS2.begin(), a.wS2.begin() + 10));

   const S1Batch s1a = resp.scintillationS1(x.data(), y.data(), z.data(), nph.data(), sf.data(), n, 7, 1, true);
   const S1Batch s1b = resp.scintillationS1(x.data(), y.data(), z.data(), nph.data(), sf.data(), n, 7, 4, true);
   const S1Batch s1c = resp.scintillationS1(x.data(), y.data(), z.data(), nph.data(), sf.data(), n, 8, 1, true);
   EXPECT_EQ(s1a.qS1, s1b.qS1);
   EXPECT_EQ(s1a.wS1, s1b.wS1);
   EXPECT_EQ(s1a.S1TBA, s1b.S1TBA);
   EXPECT_EQ(s1a.S1LargestBCQ, s1b.S1LargestBCQ);
   EXPECT_EQ(s1a.S1NPeaks, s1b.S1NPeaks);
   EXPECT_EQ(s1a.found, s1b.found);
   EXPECT_EQ(s1a.pmtArea, s1b.pmtArea);
   EXPECT_NE(s1a.qS1, s1c.qS1);
   // stored PMT areas sum to qS1
   ASSERT_EQ(s1a.pmtArea.size(), n * resp.nPmt());
   for (std::size_t i = 0; i < n; i += 37) {
      double s = 0.;
      for (std::size_t k = 0; k < resp.nPmt(); ++k)
         s += s1a.pmtArea[i * resp.nPmt() + k];
      EXPECT_NEAR(s, s1a.qS1[i], 1e-3 * (1. + s1a.qS1[i])) << i;
   }
   EXPECT_TRUE(resp.scintillationS1(x.data(), y.data(), z.data(), nph.data(), sf.data(), n, 7).pmtArea.empty());
}

TEST(LXeResponse, S2WidthGrowsWithDiffusion)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const double dl = det.get("diffusion_longitudinal", "mm2/us"), v = det.get("drift_velocity", "mm/us");
   const double elTime = det.get("s2_electroluminescence_time", "us");
   const double tts = det.get("pmt_transit_time_spread", "us") / 2.354820045;
   // three box filters of 21 samples (s2_smoothing_sigma = 10 samples): variance 3 (21^2 - 1) / 12
   const double dt = det.get("sampling_period", "us");
   const double smooth = dt * std::sqrt(3. * (21. * 21. - 1.) / 12.);
   ASSERT_NEAR(det.get("s2_smoothing_sigma", "us") / dt, 10., 1e-9);
   const std::size_t n = 100;
   std::vector<float> x(n, 0.f), y(n, 0.f);
   std::vector<int> ne(n, 1000);
   std::vector<double> widths;
   for (double td : {20., 150., 300.}) {
      std::vector<float> t(n, static_cast<float>(td));
      const S2Batch s = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, 11, 2);
      const double sigmaT = std::sqrt(2. * dl * td) / v;
      const double want = boxGaussFwhm(elTime, std::sqrt(sigmaT * sigmaT + smooth * smooth + tts * tts)) * 1e3;
      const double w = mean(s.wS2);
      EXPECT_NEAR(w, want, 0.05 * want) << "drift time " << td << " us (wS2 in ns)";
      EXPECT_GT(mean(s.wtenS2), 1.5 * w);
      widths.push_back(w);
   }
   EXPECT_LT(widths[0], widths[1]);
   EXPECT_LT(widths[1], widths[2]);
   EXPECT_GT(widths[2], 1.6 * widths[0]);
}

TEST(LXeResponse, ElectronSurvivalAndDriftTime)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const double tau = det.get("electron_lifetime", "us"), eee = det.get("extraction_efficiency");
   const double seg = det.get("single_electron_gain");
   const std::size_t n = 1000;
   const int n0 = 200;
   std::vector<float> x(n, 0.f), y(n, 0.f);
   std::vector<int> ne(n, n0);
   std::vector<double> meanQ, meanNe;
   for (double td : {20., 300.}) {
      std::vector<float> t(n, static_cast<float>(td));
      const S2Batch s = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, 5, 2);
      const double p = eee * std::exp(-td / tau);
      const double sd = std::sqrt(n0 * p * (1. - p) / static_cast<double>(n));
      EXPECT_NEAR(mean(s.nElectrons), n0 * p, 5. * sd) << "drift time " << td;
      // qS2 = extracted electrons x single-electron gain x U_S2(x, y)
      const double q = mean(s.qS2);
      EXPECT_NEAR(q, n0 * p * seg * resp.corrections().s2Relative(0., 0.), 0.02 * q) << td;
      EXPECT_NEAR(mean(s.driftTime), td, 0.05) << "reconstructed drift time (us)";
      for (std::size_t i = 0; i < n; ++i)
         ASSERT_LE(s.nElectrons[i], n0);
      meanQ.push_back(q);
      meanNe.push_back(mean(s.nElectrons));
   }
   const double survival = std::exp(-(300. - 20.) / tau);
   EXPECT_NEAR(meanNe[1] / meanNe[0], survival, 0.02 * survival);
   EXPECT_NEAR(meanQ[1] / meanQ[0], survival, 0.02 * survival);
   // the lifetime correction of PositionCorrections undoes the loss
   EXPECT_NEAR(resp.corrections().qS2c(static_cast<float>(meanQ[1]), 300.f, 0.f, 0.f) /
                   resp.corrections().qS2c(static_cast<float>(meanQ[0]), 20.f, 0.f, 0.f),
               1., 0.02);
}

TEST(LXeResponse, S1MeanChargeAndTopFraction)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const double g1 = det.get("g1");
   const std::size_t n = 1000;
   const int nph = 200;
   std::vector<double> tba;
   for (float z : {-580.f, -300.f, -20.f}) {
      std::vector<float> x(n, 50.f), y(n, -30.f), zz(n, z), sf(n, 0.25f);
      std::vector<int> np(n, nph);
      const S1Batch s = resp.scintillationS1(x.data(), y.data(), zz.data(), np.data(), sf.data(), n, 3, 2);
      const double want = nph * g1 * resp.corrections().s1Relative(50., -30., z);
      EXPECT_NEAR(mean(s.qS1), want, 0.03 * want) << "z " << z;
      for (std::size_t i = 0; i < n; ++i) {
         ASSERT_EQ(s.found[i] != 0, s.nPmtHit[i] >= det.getInt("s1_coincidence_level")) << i;
         ASSERT_GE(s.S1TBA[i], -1.f);
         ASSERT_LE(s.S1TBA[i], 1.f);
         ASSERT_GE(s.S1LargestBCQ[i], 0.f);
         ASSERT_LE(s.S1LargestBCQ[i], 1.f);
         if (s.qS1[i] > 0.f) {
            ASSERT_GE(s.S1NPeaks[i], 1);
         }
      }
      tba.push_back(mean(s.S1TBA));
   }
   EXPECT_LT(tba[0], tba[1]);
   EXPECT_LT(tba[1], tba[2]);
}

TEST(LXeResponse, DarkNoiseHitsDistinctPmts)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const std::vector<int> k{0, 1, 2, 3, 5, 40, 110, 500, -4};
   const S1Batch s = resp.darkNoiseS1(k.data(), k.size(), 9, 1, true);
   const auto level = det.getInt("s1_coincidence_level");
   for (std::size_t i = 0; i < k.size(); ++i) {
      // digitised: a single PE in the low tail of the SPE area spectrum stays below the ZLE threshold, so a few
      // PMTs can be lost, and an S1 needs >= level PMTs in tight coincidence
      const int want = std::clamp(k[i], 0, static_cast<int>(resp.nPmt()));
      EXPECT_LE(s.nPmtHit[i], want) << i;
      if (want >= 40) {
         EXPECT_GE(s.nPmtHit[i], 0.9 * want) << i;
         EXPECT_TRUE(s.found[i]) << i;
      }
      if (s.found[i]) {
         EXPECT_GE(want, level) << i;
      }
      if (want == 0) {
         EXPECT_EQ(s.qS1[i], 0.f) << i;
      }
      int nonzero = 0;
      for (std::size_t p = 0; p < resp.nPmt(); ++p)
         nonzero += s.pmtArea[i * resp.nPmt() + p] > 0.f;
      EXPECT_LE(nonzero, want) << i;
   }
}

TEST(LXeResponse, PositionReconstructionAndInputErrors)
{
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const std::size_t n = 200;
   std::vector<float> x(n, 100.f), y(n, -50.f), t(n, 100.f);
   std::vector<int> ne(n, 500);
   const S2Batch s = resp.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, 21, 2);
   EXPECT_NEAR(mean(s.x), 100., 5.);
   EXPECT_NEAR(mean(s.y), -50., 5.);
   EXPECT_GT(mean(s.S2TBA), 0.) << "S2 light mostly on the top array";

   std::vector<float> bad{0.f, std::numeric_limits<float>::quiet_NaN()};
   std::vector<int> two{10, 10};
   try {
      resp.driftedS2(bad.data(), bad.data(), bad.data(), two.data(), 2, 1);
      FAIL() << "NaN x accepted";
   } catch (const UsageError &e) {
      EXPECT_NE(std::string(e.what()).find("x[1]"), std::string::npos) << e.what();
   }
   EXPECT_THROW(resp.electronTrainS2(x.data(), y.data(), ne.data(), -2., 2, 1), UsageError);
   EXPECT_THROW(resp.electronTrainS2(x.data(), y.data(), ne.data(), std::nan(""), 2, 1), UsageError);
}

TEST(LXeResponse, S1FeaturesComeFromTheDigitisedWaveforms)
{
   // PandaX-II: a single electron's ~24 PE spread over the 1 us electroluminescence is one S2-like peak (rise
   // time >> 60 ns), never an S1; scintillation S1s of 400 photons are found, one peak, FWHM of tens of ns.
   const auto det = DetectorConfig::load("pandax2");
   const LXeResponse resp(det);
   const std::size_t n = 400;
   std::vector<float> x(n, 50.f), y(n, -30.f), z(n, -300.f), sf(n, 0.2f);
   std::vector<int> nph(n, 400);
   const S1Batch se = resp.singleElectronS1(x.data(), y.data(), n, 5, 2);
   const S1Batch sc = resp.scintillationS1(x.data(), y.data(), z.data(), nph.data(), sf.data(), n, 5, 2);
   int seFound = 0, scFound = 0;
   std::vector<float> width;
   for (std::size_t i = 0; i < n; ++i) {
      seFound += se.found[i];
      scFound += sc.found[i];
      EXPECT_GE(se.S1NPeaks[i], 1) << i;
      EXPECT_GE(sc.S1NPeaks[i], 1) << i;
      width.push_back(sc.wS1[i]);
   }
   EXPECT_LT(seFound, static_cast<int>(n / 50));
   EXPECT_GT(scFound, static_cast<int>(0.98 * n));
   std::nth_element(width.begin(), width.begin() + n / 2, width.end());
   EXPECT_GT(width[n / 2], 10.f);  // wider than one 10 ns sample (SPE template + TTS + scintillation)
   EXPECT_LT(width[n / 2], 100.f); // an S1, not the 1 us S2-like train
}
