#include "tpcml/lxe/NRMedian.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"

#include <TFile.h>
#include <TGraph.h>
#include <TKey.h>

#include <memory>

#include <algorithm>
#include <array>
#include <cmath>

namespace tpcml {

NRMedianCurve::NRMedianCurve(std::vector<double> x, std::vector<double> y) : m_x(std::move(x)), m_y(std::move(y))
{
   if (m_x.size() != m_y.size())
      throw ConfigError("NR median curve: " + std::to_string(m_x.size()) + " qS1c knots but " +
                        std::to_string(m_y.size()) + " medians");
   if (m_x.size() < 2)
      throw ConfigError("NR median curve: needs at least 2 knots, got " + std::to_string(m_x.size()));
   for (std::size_t i = 0; i < m_x.size(); ++i) {
      if (!std::isfinite(m_x[i]) || !std::isfinite(m_y[i]))
         throw ConfigError("NR median curve: knot " + std::to_string(i) + " is not finite");
      if (i > 0 && !(m_x[i] > m_x[i - 1]))
         throw ConfigError("NR median curve: qS1c knots must increase (knot " + std::to_string(i) + ")");
   }
   const double step = (m_x.back() - m_x.front()) / static_cast<double>(m_x.size() - 1);
   m_uniform = true;
   for (std::size_t i = 0; i < m_x.size(); ++i)
      m_uniform = m_uniform && std::abs(m_x[i] - (m_x.front() + step * static_cast<double>(i))) < 1e-9 * (1 + step);
   m_x0 = m_x.front();
   m_invStep = 1. / step;
}

double NRMedianCurve::operator()(double s1) const
{
   return evaluate(s1);
}

void NRMedianCurve::emptyCurve()
{
   throw UsageError("NR median curve is empty: fit it on NR calibration or load it first");
}

void NRMedianCurve::below(const float *s1, const float *s2, bool *out, std::size_t n) const
{
   for (std::size_t i = 0; i < n; ++i)
      out[i] = below(s1[i], s2[i]);
}

NRMedianCurve NRMedianCurve::fromFile(const std::string &file, const std::string &key)
{
   std::unique_ptr<TFile> f(TFile::Open(file.c_str(), "READ"));
   if (!f || f->IsZombie())
      throw InputError("cannot open ROOT file '" + file + "' to read the NR median curve");
   auto *g = f->Get<TGraph>(key.c_str());
   if (!g) {
      std::vector<std::string> keys;
      for (auto *k : *f->GetListOfKeys())
         keys.emplace_back(k->GetName());
      throw InputError(file + ": no TGraph '" + key + "' (NR median curve)" + didYouMean(key, keys) +
                       "; keys in the file: " + (keys.empty() ? std::string("none") : join(keys)));
   }
   std::vector<double> x(g->GetX(), g->GetX() + g->GetN()), y(g->GetY(), g->GetY() + g->GetN());
   try {
      return NRMedianCurve(std::move(x), std::move(y));
   } catch (const ConfigError &e) {
      throw InputError(file + ": '" + key + "': " + e.what());
   }
}

void NRMedianCurve::writeTo(const std::string &file, const std::string &key) const
{
   if (m_x.empty())
      throw UsageError("cannot write an empty NR median curve");
   std::unique_ptr<TFile> f(TFile::Open(file.c_str(), "UPDATE"));
   if (!f || f->IsZombie())
      throw InputError("cannot open ROOT file '" + file + "' for update");
   TGraph g(static_cast<int>(m_x.size()), m_x.data(), m_y.data());
   g.SetName(key.c_str());
   g.SetTitle("NR median of log10(qS2c/qS1c) vs qS1c [PE];qS1c [PE];log10(qS2c/qS1c)");
   g.Write(key.c_str(), TObject::kOverwrite);
   f->Close();
}

NRMedianCurve NRMedianCurve::fit(const float *s1, const float *s2, std::size_t n, double s1Min, double s1Max, int nBins,
                                 int nKnots)
{
   if (!(s1Max > s1Min))
      throw UsageError("NR median fit: qS1c range must be increasing, got [" + std::to_string(s1Min) + ", " +
                       std::to_string(s1Max) + "]");
   if (nBins < 4 || nKnots < 2)
      throw UsageError("NR median fit: needs >= 4 bins and >= 2 knots");
   std::vector<std::pair<double, double>> pts; // (qS1c, log10 ratio)
   for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s1[i]) || !std::isfinite(s2[i]))
         throw UsageError("NR median fit: event " + std::to_string(i) + " has a non-finite qS1c or qS2c");
      if (s1[i] >= s1Min && s1[i] <= s1Max && s2[i] > 0.f)
         pts.emplace_back(s1[i], std::log10(static_cast<double>(s2[i]) / s1[i]));
   }
   const std::size_t minPerBin = 20;
   if (pts.size() < static_cast<std::size_t>(nBins) * minPerBin)
      throw UsageError("NR median fit: " + std::to_string(pts.size()) + " NR events with qS1c in [" +
                       std::to_string(s1Min) + ", " + std::to_string(s1Max) + "] PE; need at least " +
                       std::to_string(static_cast<std::size_t>(nBins) * minPerBin) + " (" + std::to_string(nBins) +
                       " bins of " + std::to_string(minPerBin) + ")");
   std::sort(pts.begin(), pts.end());
   auto median = [](std::vector<double> &v) {
      const std::size_t m = v.size() / 2;
      std::nth_element(v.begin(), v.begin() + static_cast<long>(m), v.end());
      double med = v[m];
      if (v.size() % 2 == 0)
         med = 0.5 * (med + *std::max_element(v.begin(), v.begin() + static_cast<long>(m)));
      return med;
   };
   NRMedianCurve c;
   std::vector<double> w;
   for (int b = 0; b < nBins; ++b) {
      const std::size_t lo = pts.size() * static_cast<std::size_t>(b) / static_cast<std::size_t>(nBins);
      const std::size_t hi = pts.size() * static_cast<std::size_t>(b + 1) / static_cast<std::size_t>(nBins);
      std::vector<double> xs, ys;
      double mean = 0., var = 0.;
      for (std::size_t i = lo; i < hi; ++i) {
         xs.push_back(pts[i].first);
         ys.push_back(pts[i].second);
         mean += pts[i].second;
      }
      mean /= static_cast<double>(ys.size());
      for (double v : ys)
         var += (v - mean) * (v - mean);
      var /= static_cast<double>(ys.size() - 1);
      c.m_binX.push_back(median(xs));
      c.m_binY.push_back(median(ys));
      w.push_back(static_cast<double>(ys.size()) / (1.5707963267948966 * std::max(var, 1e-12)));
   }
   // weighted least squares: y = sum_k p_k ln(x)^k, k = 0..3 (normal equations, 4x4)
   constexpr int kDeg = 4;
   std::array<std::array<double, kDeg + 1>, kDeg> a{};
   for (std::size_t b = 0; b < c.m_binX.size(); ++b) {
      std::array<double, kDeg> f{};
      const double l = std::log(c.m_binX[b]);
      f[0] = 1.;
      for (int k = 1; k < kDeg; ++k)
         f[static_cast<std::size_t>(k)] = f[static_cast<std::size_t>(k - 1)] * l;
      for (std::size_t r = 0; r < kDeg; ++r) {
         for (std::size_t s = 0; s < kDeg; ++s)
            a[r][s] += w[b] * f[r] * f[s];
         a[r][kDeg] += w[b] * f[r] * c.m_binY[b];
      }
   }
   for (std::size_t col = 0; col < kDeg; ++col) { // Gauss-Jordan with partial pivoting
      std::size_t piv = col;
      for (std::size_t r = col + 1; r < kDeg; ++r)
         if (std::abs(a[r][col]) > std::abs(a[piv][col]))
            piv = r;
      std::swap(a[col], a[piv]);
      if (std::abs(a[col][col]) < 1e-300)
         throw UsageError("NR median fit: singular fit (all NR events at one qS1c?)");
      for (std::size_t r = 0; r < kDeg; ++r) {
         if (r == col)
            continue;
         const double factor = a[r][col] / a[col][col];
         for (std::size_t s = col; s <= kDeg; ++s)
            a[r][s] -= factor * a[col][s];
      }
   }
   std::array<double, kDeg> p{};
   for (std::size_t k = 0; k < kDeg; ++k)
      p[k] = a[k][kDeg] / a[k][k];
   const double x0 = c.m_binX.front(), x1 = c.m_binX.back();
   std::vector<double> kx, ky;
   for (int k = 0; k < nKnots; ++k) {
      const double x = x0 + (x1 - x0) * k / (nKnots - 1);
      const double l = std::log(x);
      ky.push_back(p[0] + l * (p[1] + l * (p[2] + l * p[3])));
      kx.push_back(x);
   }
   NRMedianCurve out(std::move(kx), std::move(ky));
   out.m_binX = std::move(c.m_binX);
   out.m_binY = std::move(c.m_binY);
   return out;
}

} // namespace tpcml
