// tpcml (private) -- deterministic random numbers that do not depend on the thread count.
//
// Every random quantity of entry i is drawn from a stream keyed by (seed, i): the
// result for an entry is the same whichever thread computes it and in whatever order.
//  * counterUniform(key, i, k): the k-th uniform of entry i, a pure function (SplitMix64
//    finaliser over a combined counter; Steele, Lea & Flood, OOPSLA 2014).
//  * Rng(seed, stream): xoshiro256** (Blackman & Vigna, 2018) seeded through SplitMix64,
//    a UniformRandomBitGenerator usable with <random> distributions (exact Poisson and
//    binomial samplers of libstdc++).
#ifndef TPCML_SRC_RANDOM_H
#define TPCML_SRC_RANDOM_H

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <limits>

namespace tpcml::detail {

inline std::uint64_t mix64(std::uint64_t z)
{
   z += 0x9e3779b97f4a7c15ULL;
   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
   z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
   return z ^ (z >> 31);
}

/// Key of a stream: distinct seeds and purposes give unrelated keys.
inline std::uint64_t streamKey(std::uint64_t seed, std::uint64_t purpose)
{
   return mix64(mix64(seed) ^ (purpose * 0xd1342543de82ef95ULL));
}

/// 64 random bits for (key, entry i, draw k).
inline std::uint64_t counterBits(std::uint64_t key, std::uint64_t i, std::uint32_t k)
{
   return mix64(key ^ mix64(i * 4ULL + k));
}

/// Uniform in [0, 1) with 53 random bits.
inline double toUnit(std::uint64_t bits)
{
   return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

inline double counterUniform(std::uint64_t key, std::uint64_t i, std::uint32_t k)
{
   return toUnit(counterBits(key, i, k));
}

/// Unbiased-enough index in [0, n) (multiply-high; bias < n / 2^64).
__extension__ typedef unsigned __int128 Uint128;
inline std::uint64_t toIndex(std::uint64_t bits, std::uint64_t n)
{
   return static_cast<std::uint64_t>((static_cast<Uint128>(bits) * n) >> 64);
}

class Rng {
public:
   using result_type = std::uint64_t;
   Rng(std::uint64_t seed, std::uint64_t stream)
   {
      std::uint64_t z = streamKey(seed, stream);
      for (auto &s : m_s) {
         z += 0x9e3779b97f4a7c15ULL;
         s = mix64(z);
      }
   }
   static constexpr result_type min() { return 0; }
   static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
   result_type operator()()
   {
      const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
      const std::uint64_t t = m_s[1] << 17;
      m_s[2] ^= m_s[0];
      m_s[3] ^= m_s[1];
      m_s[1] ^= m_s[2];
      m_s[0] ^= m_s[3];
      m_s[2] ^= t;
      m_s[3] = rotl(m_s[3], 45);
      return result;
   }
   double uniform() { return toUnit((*this)()); }
   /// Uniform in (0, 1], safe for log().
   double uniformPositive() { return 1.0 - uniform(); }
   std::uint64_t index(std::uint64_t n) { return toIndex((*this)(), n); }
   double exponential(double mean) { return -mean * std::log(uniformPositive()); }
   /// Standard normal (Marsaglia polar method, one value cached).
   double normal()
   {
      if (m_hasSpare) {
         m_hasSpare = false;
         return m_spare;
      }
      double u, v, s;
      do {
         u = 2.0 * uniform() - 1.0;
         v = 2.0 * uniform() - 1.0;
         s = u * u + v * v;
      } while (s >= 1.0 || s == 0.0);
      const double f = std::sqrt(-2.0 * std::log(s) / s);
      m_spare = v * f;
      m_hasSpare = true;
      return u * f;
   }

private:
   static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
   std::uint64_t m_s[4];
   double m_spare = 0.;
   bool m_hasSpare = false;
};

/// Binomial(n, p): exact (inversion) while n p (1 - p) < 30, above that the Gaussian approximation rounded and
/// clamped to [0, n] (its skewness is below 0.18 there: the same rule as the Poisson draws of the waveform
/// simulator, whose Gaussian branch starts at a mean of 30). std::binomial_distribution, constructed per call,
/// spent its time in lgamma/log set-up that dominated the S2 channel split.
inline long long binomial(Rng &rng, long long n, double p)
{
   if (n <= 0 || !(p > 0.))
      return 0;
   if (p >= 1.)
      return n;
   const double var = static_cast<double>(n) * p * (1. - p);
   if (var >= 30.)
      return std::clamp(std::llround(static_cast<double>(n) * p + std::sqrt(var) * rng.normal()), 0LL, n);
   // exact inversion by sequential search (Kachitvichyanukul & Schmeiser 1988, BINV) on min(p, 1 - p), whose
   // mean is below ~60 here: P(0) = q^n, P(x) = P(x - 1) (n - x + 1) / x * p / q
   const bool flip = p > 0.5;
   const double pp = flip ? 1. - p : p, q = 1. - pp, s = pp / q, a = static_cast<double>(n + 1) * s;
   double r = std::exp(static_cast<double>(n) * std::log1p(-pp)), u = rng.uniform();
   long long x = 0;
   while (u > r && r > 0. && x < n) {
      u -= r;
      ++x;
      r *= a / static_cast<double>(x) - s;
   }
   return flip ? n - x : x;
}

} // namespace tpcml::detail

#endif // TPCML_SRC_RANDOM_H
