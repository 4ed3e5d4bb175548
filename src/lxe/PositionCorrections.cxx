#include "tpcml/lxe/PositionCorrections.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/lxe/LXeOptics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tpcml {

void RegularGrid::validate(const std::string &what) const
{
   if (nx < 1 || ny < 1 || nz < 1)
      throw ConfigError(what + ": grid sizes must be >= 1, got " + std::to_string(nx) + " x " + std::to_string(ny) +
                        " x " + std::to_string(nz));
   const std::size_t want = static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny) * static_cast<std::size_t>(nz);
   if (values.size() != want)
      throw ConfigError(what + ": expected " + std::to_string(want) + " values for a " + std::to_string(nx) + " x " +
                        std::to_string(ny) + " x " + std::to_string(nz) + " grid, got " +
                        std::to_string(values.size()));
   if (!(x1 > x0) || !(y1 > y0) || (nz > 1 && !(z1 > z0)))
      throw ConfigError(what + ": grid ranges must be increasing (x0 < x1, y0 < y1, z0 < z1)");
   for (std::size_t i = 0; i < values.size(); ++i)
      if (!std::isfinite(values[i]) || values[i] <= 0.f)
         throw ConfigError(what + ": value " + std::to_string(i) + " is " + std::to_string(values[i]) +
                           "; a relative correction map must be finite and > 0");
}

namespace {
inline double gridScale(double lo, double hi, int n)
{
   return n > 1 ? (n - 1) / (hi - lo) : 0.;
}
/// `v` when finite and > 0, else ConfigError(message + v) (user maps' lifetime and velocity).
double positive(double v, const char *message)
{
   if (!(v > 0.) || !std::isfinite(v))
      throw ConfigError(message + std::to_string(v));
   return v;
}
} // namespace

void RegularGrid::prepare()
{
   scaleX = gridScale(x0, x1, nx);
   scaleY = gridScale(y0, y1, ny);
   scaleZ = gridScale(z0, z1, nz);
}

PositionCorrections::PositionCorrections(const DetectorConfig &detector)
    : PositionCorrections(detector, LXeOptics(detector))
{
}

PositionCorrections::PositionCorrections(const DetectorConfig &det, const LXeOptics &optics)
    : m_lifetime(ElectronLifetimeCorrection::fromDetector(det)), m_depth(DriftDepth::fromDetector(det))
{
   const double r = optics.tpcRadius(), len = optics.driftLength();
   const double rFid = det.get("fiducial_radius", "mm");
   const double zTop = -driftVelocity() * det.get("fiducial_drift_time_min", "us");
   const double zBot = -driftVelocity() * det.get("fiducial_drift_time_max", "us");
   std::vector<double> buf(optics.nPmt());

   // FV means with the exact model on a uniform grid inside the fiducial cylinder.
   double s1Mean = 0., s2Mean = 0.;
   int n1 = 0, n2 = 0;
   const int nf = 16;
   for (int i = 0; i < nf; ++i)
      for (int j = 0; j < nf; ++j) {
         const double x = -rFid + 2. * rFid * (i + 0.5) / nf, y = -rFid + 2. * rFid * (j + 0.5) / nf;
         if (x * x + y * y > rFid * rFid)
            continue;
         s2Mean += optics.s2Collection(x, y, buf.data());
         ++n2;
         for (int k = 0; k < nf; ++k) {
            s1Mean += optics.s1Collection(x, y, zBot + (zTop - zBot) * (k + 0.5) / nf, buf.data());
            ++n1;
         }
      }
   s1Mean /= n1;
   s2Mean /= n2;

   // Tabulated maps over the whole TPC (5 mm steps in z near 600 mm: fine for a smooth map).
   m_s1 = RegularGrid{-r, r, -r, r, -len, 0., 41, 41, 41, {}};
   m_s2 = RegularGrid{-r, r, -r, r, 0., 1., 81, 81, 1, {}};
   m_s1.values.resize(41 * 41 * 41);
   for (int i = 0; i < 41; ++i)
      for (int j = 0; j < 41; ++j)
         for (int k = 0; k < 41; ++k) {
            const double x = -r + 2. * r * i / 40., y = -r + 2. * r * j / 40., z = -len + len * k / 40.;
            m_s1.values[(static_cast<std::size_t>(i) * 41 + j) * 41 + k] =
                static_cast<float>(optics.s1Collection(x, y, z, buf.data()) / s1Mean);
         }
   m_s2.values.resize(81 * 81);
   for (int i = 0; i < 81; ++i)
      for (int j = 0; j < 81; ++j) {
         const double x = -r + 2. * r * i / 80., y = -r + 2. * r * j / 80.;
         m_s2.values[static_cast<std::size_t>(i) * 81 + j] =
             static_cast<float>(optics.s2Collection(x, y, buf.data()) / s2Mean);
      }
   m_s1.prepare();
   m_s2.prepare();
}

PositionCorrections::PositionCorrections(RegularGrid s1Map, RegularGrid s2Map, double lifetimeUs,
                                         double driftVelocityMmPerUs)
    : m_s1(std::move(s1Map)), m_s2(std::move(s2Map)),
      m_lifetime(positive(lifetimeUs, "electron lifetime must be finite and > 0 us, got ")),
      m_depth(positive(driftVelocityMmPerUs, "drift velocity must be finite and > 0 mm/us, got "))
{
   m_s1.validate("S1 light-collection map");
   m_s2.validate("S2 xy map");
   m_s1.prepare();
   m_s2.prepare();
   if (m_s2.nz != 1)
      throw ConfigError("S2 xy map: expected a 2-D grid (nz = 1), got nz = " + std::to_string(m_s2.nz));
}

void PositionCorrections::apply(const float *qS1, const float *qS2, const float *t, const float *x, const float *y,
                                float *z, float *qS1c, float *qS2c, std::size_t n) const
{
   for (std::size_t i = 0; i < n; ++i) {
      const float zi = depth(t[i]);
      if (z)
         z[i] = zi;
      if (qS1c)
         qS1c[i] = this->qS1c(qS1[i], x[i], y[i], zi);
      if (qS2c)
         qS2c[i] = this->qS2c(qS2[i], t[i], x[i], y[i]);
   }
}

} // namespace tpcml
