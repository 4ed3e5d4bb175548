// tpcml -- the NR median line of log10(qS2c/qS1c) versus qS1c (PandaX-II, P2-DNN §2, Fig. 1).
//
// Fitted on NR calibration events: the qS1c range is cut into bins holding equal numbers of
// events, the median of log10(qS2c/qS1c) and of qS1c is taken in each bin, and a cubic
// polynomial in ln(qS1c) is fitted to the bin medians by least squares, weighted by the
// inverse variance of each median (sigma^2 = pi/2 * var / n, the asymptotic variance of a
// median). The curve is stored as knots of that polynomial and evaluated by linear
// interpolation, constant beyond the fitted range (so a file can carry it as a TGraph).
#ifndef TPCML_NR_MEDIAN_H
#define TPCML_NR_MEDIAN_H

#include <cstddef>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tpcml {

class NRMedianCurve {
public:
   NRMedianCurve() = default;
   /// Knots (qS1c increasing, medians finite); throws ConfigError otherwise.
   NRMedianCurve(std::vector<double> qS1c, std::vector<double> median);

   /// Fit on n NR events with qS1c in [s1Min, s1Max] (others ignored). Needs >= 4 bins of
   /// >= 20 events; throws UsageError naming what is missing.
   static NRMedianCurve fit(const float *qS1c, const float *qS2c, std::size_t n, double s1Min, double s1Max,
                            int nBins = 20, int nKnots = 64);

   /// Read the curve stored as a TGraph (x = qS1c, y = median) under `key` in a ROOT file.
   /// Throws InputError naming the file and key (with the keys that are there).
   static NRMedianCurve fromFile(const std::string &file, const std::string &key = "tpcml_nr_median");
   /// Store the knots as a TGraph under `key` in `file` (opened in UPDATE mode).
   void writeTo(const std::string &file, const std::string &key = "tpcml_nr_median") const;

   /// Median log10(qS2c/qS1c) at qS1c (throws UsageError on an empty curve).
   double operator()(double qS1c) const;
   /// log10(qS2c/qS1c) below the curve (false for non-positive charges). Inline: the pairing
   /// kernel calls it for every pair.
   bool below(float qS1c, float qS2c) const
   {
      if (!(qS1c > 0.f) || !(qS2c > 0.f))
         return false;
      const float ratio = qS2c / qS1c;
      const double median = evaluate(qS1c);
      // A cheap log10 (|error| < 6e-5) settles all but the events next to the line; those get the
      // exact float log10 -- the answer is always that of the exact comparison.
      double approx;
      if (approxLog10(ratio, approx)) {
         if (approx < median - kApproxGuard)
            return true;
         if (approx > median + kApproxGuard)
            return false;
      }
      return std::log10(ratio) < median; // float log10: the inputs are float columns
   }
   void below(const float *qS1c, const float *qS2c, bool *out, std::size_t n) const;

   const std::vector<double> &knotsX() const { return m_x; }
   const std::vector<double> &knotsY() const { return m_y; }
   /// Bin medians used by the fit (qS1c, log10 ratio), for plots.
   const std::vector<double> &binX() const { return m_binX; }
   const std::vector<double> &binY() const { return m_binY; }
   bool empty() const { return m_x.empty(); }

private:
   /// operator() on a non-empty curve.
   double evaluate(double s1) const
   {
      if (m_x.empty())
         emptyCurve();
      if (s1 <= m_x.front())
         return m_y.front();
      if (s1 >= m_x.back())
         return m_y.back();
      std::size_t k;
      if (m_uniform) {
         k = static_cast<std::size_t>((s1 - m_x0) * m_invStep);
         k = k < m_x.size() - 2 ? k : m_x.size() - 2;
      } else {
         k = static_cast<std::size_t>(std::upper_bound(m_x.begin(), m_x.end(), s1) - m_x.begin()) - 1;
      }
      const double f = (s1 - m_x[k]) / (m_x[k + 1] - m_x[k]);
      return m_y[k] + f * (m_y[k + 1] - m_y[k]);
   }
   [[noreturn]] static void emptyCurve();
   /// log10 of a positive finite float from its exponent and a quartic in the mantissa
   /// (least-squares fit of log2 on [1, 2), max error 1.9e-4 in log2, 5.7e-5 in log10).
   /// False (no approximation) for zero, subnormal, infinite or NaN x.
   static bool approxLog10(float x, double &out)
   {
      std::uint32_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      const int biased = static_cast<int>((bits >> 23) & 0xffu);
      if (biased == 0 || biased == 0xff)
         return false;
      const std::uint32_t mbits = (bits & 0x7fffffu) | 0x3f800000u; // mantissa as a float in [1, 2)
      float m;
      std::memcpy(&m, &mbits, sizeof m);
      const double t = static_cast<double>(m) - 1.0;
      const double log2m = t * (1.43854816 + t * (-0.67809105 + t * (0.3236495 + t * -0.08429657)));
      out = (log2m + (biased - 127)) * 0.30102999566398120;
      return true;
   }
   static constexpr double kApproxGuard = 1e-3; ///< > 15x the approximation's error
   std::vector<double> m_x, m_y, m_binX, m_binY;
   double m_x0 = 0., m_invStep = 0.; ///< uniform knots: fast lookup
   bool m_uniform = false;
};

} // namespace tpcml

#endif // TPCML_NR_MEDIAN_H
