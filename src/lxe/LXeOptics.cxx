#include "tpcml/lxe/LXeOptics.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace tpcml {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kFourPi = 4. * kPi;
} // namespace

PmtArray hexPmtArray(std::size_t n, double pitch)
{
   if (n == 0)
      throw ConfigError("hexPmtArray: a PMT array needs at least one PMT");
   if (!(pitch > 0.))
      throw ConfigError("hexPmtArray: pmt_pitch must be > 0, got " + std::to_string(pitch));
   // rings 0..K hold 1 + 3K(K+1) positions
   int k = 0;
   while (1 + 3 * static_cast<std::size_t>(k) * static_cast<std::size_t>(k + 1) < n)
      ++k;
   std::vector<std::tuple<double, double, double, double>> pos; // (r rounded, phi, x, y)
   const double s3 = std::sqrt(3.);
   for (int q = -k; q <= k; ++q)
      for (int r = -k; r <= k; ++r) {
         if (std::abs(q + r) > k)
            continue;
         const double x = pitch * (q + 0.5 * r), y = pitch * (0.5 * s3 * r);
         const double rad = std::round(std::hypot(x, y) * 1e6) / 1e6;
         double phi = std::atan2(y, x);
         if (phi < 0)
            phi += 2 * kPi;
         pos.emplace_back(rad, std::round(phi * 1e9) / 1e9, x, y);
      }
   std::sort(pos.begin(), pos.end());
   PmtArray a;
   for (std::size_t i = 0; i < n; ++i) {
      a.x.push_back(std::get<2>(pos[i]));
      a.y.push_back(std::get<3>(pos[i]));
   }
   return a;
}

double LXeOptics::fresnelTransmission(double n1, double n2, double cosI)
{
   cosI = std::clamp(cosI, 0., 1.);
   const double sinI = std::sqrt(1. - cosI * cosI);
   const double sinT = n1 / n2 * sinI;
   if (sinT >= 1.)
      return 0.; // total internal reflection
   const double cosT = std::sqrt(1. - sinT * sinT);
   const double rs = (n1 * cosI - n2 * cosT) / (n1 * cosI + n2 * cosT);
   const double rp = (n1 * cosT - n2 * cosI) / (n1 * cosT + n2 * cosI);
   return 1. - 0.5 * (rs * rs + rp * rp);
}

double LXeOptics::discSolidAngle(double a, double d, double cosT)
{
   if (cosT <= 0.)
      return 0.;
   return 2. * kPi * (1. - 1. / std::sqrt(1. + a * a * cosT / (d * d)));
}

LXeOptics::LXeOptics(const DetectorConfig &det)
{
   m_radius = det.get("tpc_radius", "mm");
   m_driftLength = det.get("drift_length", "mm");
   m_zSurface = det.get("liquid_level_above_gate", "mm");
   m_zS2 = m_zSurface + 0.5 * det.get("gas_gap", "mm");
   m_n = det.get("lxe_refractive_index");
   m_ptfe = det.get("ptfe_reflectivity");
   m_rayleigh = det.get("rayleigh_scattering_length", "mm");

   const std::string layout = det.getString("pmt_layout");
   if (layout != "hex")
      throw ConfigError(det.file() + ": pmt_layout '" + layout + "' is not supported; expected one of: hex");
   const double pitch = det.get("pmt_pitch", "mm");
   const double cathode = 0.5 * det.get("pmt_photocathode_diameter", "mm");
   m_top = hexPmtArray(static_cast<std::size_t>(det.getInt("n_pmt_top")), pitch);
   m_bottom = hexPmtArray(static_cast<std::size_t>(det.getInt("n_pmt_bottom")), pitch);
   m_top.z = m_zSurface + det.get("top_array_distance", "mm");
   m_bottom.z = -m_driftLength - det.get("bottom_array_distance", "mm");
   m_top.cathodeRadius = m_bottom.cathodeRadius = cathode;
   if (m_top.z <= m_zS2)
      throw ConfigError(det.file() + ": top_array_distance must exceed half the gas gap (top PMTs above the S2 light)");

   // Integrating-sphere efficiencies of the diffuse pool.
   const double aPmt = kPi * cathode * cathode;
   const double aTot = 2. * kPi * m_radius * m_radius + 2. * kPi * m_radius * m_driftLength;
   const double nTopD = static_cast<double>(nTop()), nBotD = static_cast<double>(nBottom());
   const double c = (nTopD + nBotD) * aPmt / aTot;
   const double wTop = 1. / (m_n * m_n);
   const double cW1 = (wTop * nTopD + nBotD) * aPmt / aTot;
   m_epsDiffuseS1 = cW1 / (cW1 + (1. - m_ptfe) * (1. - c));
   m_epsDiffuseS2 = c / (c + (1. - m_ptfe) * (1. - c));
   m_topWeightS1 = wTop / (wTop * nTopD + nBotD);
   m_bottomWeightS1 = 1. / (wTop * nTopD + nBotD);
   m_weightS2 = 1. / (nTopD + nBotD);

   // Calibrate the S2 top/bottom split on the fiducial area: mean top fraction = target.
   const double target = det.get("s2_area_fraction_top");
   const double rFid = det.get("fiducial_radius", "mm");
   std::vector<std::pair<double, double>> tb; // (top, bottom) unscaled per grid point
   std::vector<double> buf(nPmt());
   const int ng = 25;
   for (int i = 0; i < ng; ++i)
      for (int j = 0; j < ng; ++j) {
         const double x = -rFid + (2. * rFid) * (i + 0.5) / ng, y = -rFid + (2. * rFid) * (j + 0.5) / ng;
         if (x * x + y * y > rFid * rFid)
            continue;
         s2CollectionUnscaled(x, y, buf.data());
         const double t = std::accumulate(buf.begin(), buf.begin() + static_cast<long>(nTop()), 0.);
         const double b = std::accumulate(buf.begin() + static_cast<long>(nTop()), buf.end(), 0.);
         tb.emplace_back(t, b);
      }
   auto meanTop = [&](double k) {
      double s = 0.;
      for (const auto &p : tb)
         s += k * p.first / (k * p.first + p.second);
      return s / static_cast<double>(tb.size());
   };
   double lo = 1e-4, hi = 1e4;
   if (meanTop(lo) > target || meanTop(hi) < target)
      throw ConfigError(det.file() + ": s2_area_fraction_top = " + std::to_string(target) +
                        " cannot be reached by the light-collection model");
   for (int it = 0; it < 100; ++it) {
      const double mid = std::sqrt(lo * hi);
      (meanTop(mid) < target ? lo : hi) = mid;
   }
   m_s2TopScale = std::sqrt(lo * hi);
}

double LXeOptics::s1Collection(double x, double y, double z, double *out) const
{
   const double a = m_top.cathodeRadius;
   const double invL = m_rayleigh > 0. ? 1. / m_rayleigh : 0.;
   double direct = 0.;
   const std::size_t nt = nTop();
   // top array: through the liquid surface
   const double hTop = m_top.z - z, hLiq = std::max(m_zSurface - z, 0.);
   for (std::size_t i = 0; i < nt; ++i) {
      const double dx = m_top.x[i] - x, dy = m_top.y[i] - y;
      const double d = std::sqrt(dx * dx + dy * dy + hTop * hTop);
      const double cosT = hTop / d;
      const double v = discSolidAngle(a, d, cosT) / kFourPi * fresnelTransmission(m_n, 1., cosT) *
                       std::exp(-d * (hLiq / hTop) * invL);
      out[i] = v;
      direct += v;
   }
   // bottom array: direct, and specularly reflected at the liquid surface (image point)
   const double hBot = z - m_bottom.z, hImg = 2. * m_zSurface - z - m_bottom.z;
   for (std::size_t i = 0; i < nBottom(); ++i) {
      const double dx = m_bottom.x[i] - x, dy = m_bottom.y[i] - y, r2 = dx * dx + dy * dy;
      double v = 0.;
      if (hBot > 0.) {
         const double d = std::sqrt(r2 + hBot * hBot);
         v += discSolidAngle(a, d, hBot / d) / kFourPi * std::exp(-d * invL);
      }
      const double dI = std::sqrt(r2 + hImg * hImg), cosI = hImg / dI;
      v += discSolidAngle(a, dI, cosI) / kFourPi * (1. - fresnelTransmission(m_n, 1., cosI)) * std::exp(-dI * invL);
      out[nt + i] = v;
      direct += v;
   }
   const double pool = std::max(0., 1. - direct) * m_epsDiffuseS1;
   double sum = 0.;
   for (std::size_t i = 0; i < nPmt(); ++i) {
      out[i] += pool * (i < nt ? m_topWeightS1 : m_bottomWeightS1);
      sum += out[i];
   }
   return sum;
}

double LXeOptics::s2CollectionUnscaled(double x, double y, double *out) const
{
   const double a = m_top.cathodeRadius;
   const double invL = m_rayleigh > 0. ? 1. / m_rayleigh : 0.;
   double direct = 0.;
   const std::size_t nt = nTop();
   const double hTop = m_top.z - m_zS2, hImg = m_top.z - (2. * m_zSurface - m_zS2);
   for (std::size_t i = 0; i < nt; ++i) {
      const double dx = m_top.x[i] - x, dy = m_top.y[i] - y, r2 = dx * dx + dy * dy;
      const double d = std::sqrt(r2 + hTop * hTop);
      const double dI = std::sqrt(r2 + hImg * hImg), cosI = hImg / dI;
      const double v = discSolidAngle(a, d, hTop / d) / kFourPi +
                       discSolidAngle(a, dI, cosI) / kFourPi * (1. - fresnelTransmission(1., m_n, cosI));
      out[i] = v;
      direct += v;
   }
   const double hBot = m_zS2 - m_bottom.z, liqFrac = (m_zSurface - m_bottom.z) / hBot;
   for (std::size_t i = 0; i < nBottom(); ++i) {
      const double dx = m_bottom.x[i] - x, dy = m_bottom.y[i] - y;
      const double d = std::sqrt(dx * dx + dy * dy + hBot * hBot), cosT = hBot / d;
      const double v =
          discSolidAngle(a, d, cosT) / kFourPi * fresnelTransmission(1., m_n, cosT) * std::exp(-d * liqFrac * invL);
      out[nt + i] = v;
      direct += v;
   }
   const double pool = std::max(0., 1. - direct) * m_epsDiffuseS2 * m_weightS2;
   double sum = 0.;
   for (std::size_t i = 0; i < nPmt(); ++i) {
      out[i] += pool;
      sum += out[i];
   }
   return sum;
}

double LXeOptics::s2Collection(double x, double y, double *out) const
{
   s2CollectionUnscaled(x, y, out);
   double sum = 0.;
   for (std::size_t i = 0; i < nPmt(); ++i) {
      if (i < nTop())
         out[i] *= m_s2TopScale;
      sum += out[i];
   }
   return sum;
}

std::vector<double> LXeOptics::s1Collection(double x, double y, double z) const
{
   std::vector<double> out(nPmt());
   s1Collection(x, y, z, out.data());
   return out;
}

std::vector<double> LXeOptics::s2Collection(double x, double y) const
{
   std::vector<double> out(nPmt());
   s2Collection(x, y, out.data());
   return out;
}

} // namespace tpcml
