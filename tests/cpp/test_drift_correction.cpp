#include "tpcml/core/DetectorConfig.h"
#include "tpcml/lxe/DriftCorrection.h"
#include "tpcml/core/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace tpcml;

TEST(ElectronLifetimeCorrection, UndoesExponentialAttenuation)
{
   const ElectronLifetimeCorrection corr(500.);
   EXPECT_DOUBLE_EQ(corr.survivalProbability(0.), 1.);
   EXPECT_NEAR(corr.survivalProbability(500.), std::exp(-1.), 1e-15);
   // A charge attenuated over t is restored: q0 * exp(-t/tau) -> q0.
   for (float t : {0.f, 10.f, 250.f, 360.f}) {
      const float q0 = 1234.5f;
      const float raw = static_cast<float>(q0 * corr.survivalProbability(t));
      EXPECT_NEAR(corr(raw, t), q0, 1e-3f * q0) << t;
   }
   EXPECT_THROW(ElectronLifetimeCorrection(0.), UsageError);
   EXPECT_THROW(ElectronLifetimeCorrection(-5.), UsageError);
}

TEST(ElectronLifetimeCorrection, BatchEqualsPerEvent)
{
   const ElectronLifetimeCorrection corr(812.);
   std::vector<float> q{100.f, 2000.f, 5e4f, 1.f}, t{0.f, 100.f, 300.f, 700.f}, out(4);
   corr.apply(q.data(), t.data(), out.data(), q.size());
   for (std::size_t i = 0; i < q.size(); ++i)
      EXPECT_FLOAT_EQ(out[i], corr(q[i], t[i]));
   corr.apply(q.data(), t.data(), q.data(), q.size()); // in place
   EXPECT_EQ(q, out);
}

TEST(DriftDepth, FromDetector)
{
   const auto cfg = DetectorConfig::load("pandax2");
   const DriftDepth depth = DriftDepth::fromDetector(cfg);
   EXPECT_GT(depth.driftVelocity(), 1.0);
   EXPECT_LT(depth.driftVelocity(), 3.0);
   EXPECT_FLOAT_EQ(depth(0.f), 0.f);
   EXPECT_NEAR(depth(100.f), -100. * depth.driftVelocity(), 1e-3);
   const auto corr = ElectronLifetimeCorrection::fromDetector(cfg);
   EXPECT_DOUBLE_EQ(corr.lifetime(), cfg.get("electron_lifetime", "us"));
}
