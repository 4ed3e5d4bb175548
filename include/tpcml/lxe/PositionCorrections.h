// tpcml -- position corrections of a dual-phase LXe TPC: qS1 -> qS1c, qS2 -> qS2c.
//
//   qS1c = qS1 / LCE_rel(x, y, z)                 LCE_rel: S1 light-collection map / its FV mean
//   qS2c = qS2 * exp(t_d / tau_e) / U_S2(x, y)    U_S2: S2 xy map / its FV mean (docs/event-model.md §3)
//
// The maps are tabulated on regular grids (trilinear / bilinear interpolation, clamped at the
// grid edges), either computed once from the LXeOptics model of a registry detector or given
// by the user (their own calibration maps), so that simulated events, accidental pairs and
// real data are corrected by the same code.
#ifndef TPCML_POSITION_CORRECTIONS_H
#define TPCML_POSITION_CORRECTIONS_H

#include "tpcml/lxe/DriftCorrection.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace tpcml {

class DetectorConfig;
class LXeOptics;

/// Values on a regular nx * ny * nz grid over [x0, x1] x [y0, y1] x [z0, z1] (nz = 1: 2-D map),
/// index (ix * ny + iy) * nz + iz; linear interpolation, clamped outside.
struct RegularGrid {
   double x0 = 0., x1 = 1., y0 = 0., y1 = 1., z0 = 0., z1 = 1.;
   int nx = 1, ny = 1, nz = 1;
   std::vector<float> values;

   /// Checks sizes, ranges and that every value is finite and > 0; throws ConfigError naming `what`.
   void validate(const std::string &what) const;
   /// Caches the inverse grid steps used by eval (call after filling the fields; eval works
   /// without it, dividing on every call).
   void prepare();
   double eval(double x, double y, double z = 0.) const { return evalColumn(column(x, y), z); }

   /// The (x, y) part of a lookup: trilinear evaluation at many z for one (x, y) repeats no work,
   /// and evalColumn(column(x, y), z) is eval(x, y, z) to the last bit.
   struct Column {
      std::size_t offset = 0;
      double fx = 0., fy = 0.;
   };
   Column column(double x, double y) const
   {
      int ix, iy;
      Column c;
      locate(x, x0, scaleX != 0. ? scaleX : scale(x0, x1, nx), nx, ix, c.fx);
      locate(y, y0, scaleY != 0. ? scaleY : scale(y0, y1, ny), ny, iy, c.fy);
      c.offset = (static_cast<std::size_t>(ix) * ny + iy) * nz;
      return c;
   }
   double evalColumn(const Column &c, double z) const
   {
      int iz;
      double fz;
      locate(z, z0, scaleZ != 0. ? scaleZ : scale(z0, z1, nz), nz, iz, fz);
      const int sx = nx > 1 ? ny * nz : 0, sy = ny > 1 ? nz : 0, sz = nz > 1 ? 1 : 0;
      const float *p = values.data() + c.offset + iz;
      const double c00 = p[0] + fz * (p[sz] - p[0]);
      const double c01 = p[sy] + fz * (p[sy + sz] - p[sy]);
      const double c10 = p[sx] + fz * (p[sx + sz] - p[sx]);
      const double c11 = p[sx + sy] + fz * (p[sx + sy + sz] - p[sx + sy]);
      const double c0 = c00 + c.fy * (c01 - c00), c1 = c10 + c.fy * (c11 - c10);
      return c0 + c.fx * (c1 - c0);
   }

   double scaleX = 0., scaleY = 0., scaleZ = 0.; ///< (n - 1) / (hi - lo), set by prepare()

private:
   static double scale(double lo, double hi, int n) { return n > 1 ? (n - 1) / (hi - lo) : 0.; }
   static void locate(double v, double lo, double s, int n, int &i, double &f)
   {
      if (n == 1) {
         i = 0;
         f = 0.;
         return;
      }
      const double u = std::clamp((v - lo) * s, 0., static_cast<double>(n - 1));
      i = std::min(static_cast<int>(u), n - 2);
      f = u - i;
   }
};

class PositionCorrections {
public:
   /// Maps from the detector's light-collection model, normalised over its fiducial volume.
   explicit PositionCorrections(const DetectorConfig &detector);
   PositionCorrections(const DetectorConfig &detector, const LXeOptics &optics);
   /// User maps: s1Map over (x, y, z) in mm, s2Map over (x, y) (nz = 1); lifetime in us,
   /// drift velocity in mm/us.
   PositionCorrections(RegularGrid s1Map, RegularGrid s2Map, double lifetimeUs, double driftVelocityMmPerUs);

   /// Relative S1 light collection at (x, y, z) (mean 1 over the FV).
   double s1Relative(double x, double y, double z) const { return m_s1.eval(x, y, z); }
   /// Relative S2 gain at (x, y) (mean 1 over the FV).
   double s2Relative(double x, double y) const { return m_s2.eval(x, y); }
   double lifetime() const { return m_lifetime.lifetime(); }
   double driftVelocity() const { return m_depth.driftVelocity(); }
   const ElectronLifetimeCorrection &lifetimeCorrection() const { return m_lifetime; }
   const DriftDepth &driftDepth() const { return m_depth; }
   /// z = -v_d t_d (mm)
   float depth(float driftTimeUs) const { return m_depth(driftTimeUs); }
   float qS1c(float qS1, float x, float y, float z) const { return qS1c(qS1, m_s1.column(x, y), z); }
   /// Same, with the (x, y) part of the S1-map lookup done once (s1Column(x, y)).
   float qS1c(float qS1, const RegularGrid::Column &xy, float z) const
   {
      return static_cast<float>(qS1 / m_s1.evalColumn(xy, z));
   }
   RegularGrid::Column s1Column(double x, double y) const { return m_s1.column(x, y); }
   float qS2c(float qS2, float driftTimeUs, float x, float y) const { return qS2c(qS2, driftTimeUs, m_s2.eval(x, y)); }
   /// Same, with the relative S2 gain s2Relative(x, y) already evaluated.
   float qS2c(float qS2, float driftTimeUs, double s2RelativeGain) const
   {
      return static_cast<float>(qS2 * m_lifetime.correctionFactor(driftTimeUs) / s2RelativeGain);
   }
   /// Batch: z, qS1c, qS2c for n events (any output may be null).
   void apply(const float *qS1, const float *qS2, const float *driftTime, const float *x, const float *y, float *z,
              float *qS1c, float *qS2c, std::size_t n) const;

   const RegularGrid &s1Map() const { return m_s1; }
   const RegularGrid &s2Map() const { return m_s2; }

private:
   RegularGrid m_s1, m_s2;
   ElectronLifetimeCorrection m_lifetime;
   DriftDepth m_depth;
};

} // namespace tpcml

#endif // TPCML_POSITION_CORRECTIONS_H
