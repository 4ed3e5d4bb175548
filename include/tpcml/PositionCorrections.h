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
   double eval(double x, double y, double z = 0.) const;
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
   double lifetime() const { return m_lifetime; }
   double driftVelocity() const { return m_velocity; }
   /// z = -v_d t_d (mm)
   float depth(float driftTimeUs) const { return static_cast<float>(-m_velocity * driftTimeUs); }
   float qS1c(float qS1, float x, float y, float z) const { return static_cast<float>(qS1 / m_s1.eval(x, y, z)); }
   float qS2c(float qS2, float driftTimeUs, float x, float y) const
   {
      return static_cast<float>(qS2 * std::exp(driftTimeUs * m_invLifetime) / m_s2.eval(x, y));
   }
   /// Batch: z, qS1c, qS2c for n events (any output may be null).
   void apply(const float *qS1, const float *qS2, const float *driftTime, const float *x, const float *y, float *z,
              float *qS1c, float *qS2c, std::size_t n) const;

   const RegularGrid &s1Map() const { return m_s1; }
   const RegularGrid &s2Map() const { return m_s2; }

private:
   RegularGrid m_s1, m_s2;
   double m_lifetime = 0., m_invLifetime = 0., m_velocity = 0.;
};

} // namespace tpcml

#endif // TPCML_POSITION_CORRECTIONS_H
