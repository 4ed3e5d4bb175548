// The private random helpers of src/core/Random.h: the binomial sampler's exact (inversion) and Gaussian branches.
#include "core/Random.h"
#include <gtest/gtest.h>
#include <cmath>
#include <vector>

using tpcml::detail::Rng;

namespace {
struct Moments {
   double mean = 0., var = 0.;
   long long lo = 0, hi = 0;
};
Moments sample(long long n, double p, int draws)
{
   Rng rng(11, static_cast<std::uint64_t>(n) * 1000 + static_cast<std::uint64_t>(p * 1000));
   Moments m;
   m.lo = n;
   double s = 0., s2 = 0.;
   for (int k = 0; k < draws; ++k) {
      const long long x = tpcml::detail::binomial(rng, n, p);
      s += static_cast<double>(x);
      s2 += static_cast<double>(x) * static_cast<double>(x);
      m.lo = std::min(m.lo, x);
      m.hi = std::max(m.hi, x);
   }
   m.mean = s / draws;
   m.var = s2 / draws - m.mean * m.mean;
   return m;
}
} // namespace

TEST(Random, BinomialHasTheRightMeanAndVarianceOnBothBranches)
{
   // (n, p): exact inversion with small and large n (p small and p > 0.5 by symmetry), and the Gaussian branch
   // (n p (1 - p) >= 30). 40,000 draws: the mean within 5 standard errors, the variance within 5 %.
   const int draws = 40000;
   for (const auto &[n, p] : std::vector<std::pair<long long, double>>{
            {10, 0.3}, {1000000, 2e-5}, {200, 0.9}, {5000, 0.004}, {17000, 1. / 248.}, {2500, 0.14}}) {
      const Moments m = sample(n, p, draws);
      const double mean = static_cast<double>(n) * p, var = mean * (1. - p);
      EXPECT_NEAR(m.mean, mean, 5. * std::sqrt(var / draws)) << "n " << n << " p " << p;
      EXPECT_NEAR(m.var / var, 1., 0.05) << "n " << n << " p " << p;
      EXPECT_GE(m.lo, 0);
      EXPECT_LE(m.hi, n);
   }
}

TEST(Random, BinomialEdgeCases)
{
   Rng rng(3, 4);
   EXPECT_EQ(tpcml::detail::binomial(rng, 0, 0.5), 0);
   EXPECT_EQ(tpcml::detail::binomial(rng, -5, 0.5), 0);
   EXPECT_EQ(tpcml::detail::binomial(rng, 7, 0.), 0);
   EXPECT_EQ(tpcml::detail::binomial(rng, 7, 1.), 7);
   EXPECT_EQ(tpcml::detail::binomial(rng, 7, std::nan("")), 0);
   for (int k = 0; k < 1000; ++k) {
      const long long x = tpcml::detail::binomial(rng, 3, 0.999);
      ASSERT_GE(x, 0);
      ASSERT_LE(x, 3);
   }
}
