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

   /// Median log10(qS2c/qS1c) at qS1c.
   double operator()(double qS1c) const;
   /// log10(qS2c/qS1c) below the curve (false for non-positive charges).
   bool below(float qS1c, float qS2c) const;
   void below(const float *qS1c, const float *qS2c, bool *out, std::size_t n) const;

   const std::vector<double> &knotsX() const { return m_x; }
   const std::vector<double> &knotsY() const { return m_y; }
   /// Bin medians used by the fit (qS1c, log10 ratio), for plots.
   const std::vector<double> &binX() const { return m_binX; }
   const std::vector<double> &binY() const { return m_binY; }
   bool empty() const { return m_x.empty(); }

private:
   std::vector<double> m_x, m_y, m_binX, m_binY;
   double m_x0 = 0., m_invStep = 0.; ///< uniform knots: fast lookup
   bool m_uniform = false;
};

} // namespace tpcml

#endif // TPCML_NR_MEDIAN_H
