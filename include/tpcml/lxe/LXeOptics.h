// tpcml -- light collection in a dual-phase LXe TPC: per-PMT detection probabilities.
//
// One model for every LXe detector of the registry (PandaX-II, XENON1T, XENONnT, DARWIN);
// all numbers come from the detector file. Geometry (z = 0 at the gate, docs/event-model.md):
// liquid surface at z_s = liquid_level_above_gate; top photocathodes at z_s + top_array_distance
// (facing down); bottom photocathodes at -drift_length - bottom_array_distance (facing up);
// S2 light emitted in the middle of the gas gap, z_s + gas_gap / 2.
//
// For a photon emitted isotropically at P the probability to reach PMT i is
//   direct_i  = Omega_i(P) / 4pi * T(theta) * exp(-l_liquid / lambda_R)
//             + (bottom PMTs, S1 only) Omega_i(P') / 4pi * R(theta') * exp(-l'/lambda_R)
//   diffuse_i = f_pool(P) * eps_d * w_i A_i / sum_j w_j A_j
// with
//   * Omega_i the solid angle of the photocathode disc (radius a, distance d, incidence cos t):
//     Omega = 2 pi (1 - 1 / sqrt(1 + a^2 cos t / d^2)): exact on the axis, A cos t / d^2 far away;
//   * T, R the unpolarised Fresnel transmission / reflection at the liquid surface
//     (n = lxe_refractive_index, gas n = 1): no transmission beyond the critical angle
//     arcsin(1/n), i.e. total internal reflection sends that light to the bottom array;
//     P' is P mirrored in the liquid surface (specular reflection);
//   * lambda_R the Rayleigh scattering length: scattered light joins the diffuse pool;
//   * f_pool = 1 - sum_i direct_i: light that misses every photocathode on its first
//     flight and is reflected diffusely by the PTFE walls (reflectivity R_PTFE);
//   * eps_d = C_w / (C_w + (1 - R_PTFE)(1 - C)): the integrating-sphere probability that a
//     diffuse photon ends on a photocathode rather than being absorbed by PTFE, with C the
//     photocathode fraction of the inner surface and C_w the same fraction weighted by w_i;
//   * w_i = 1 (bottom), 1/n^2 (top: a Lambertian flux in the liquid crosses the surface only
//     inside the critical cone, fraction sin^2 theta_c = 1/n^2) for S1 light; for S2 light
//     (emitted in the gas) w_i = 1 for both arrays.
// Refraction's change of the solid angle through the surface and the cathode/gate mesh
// transparency are neglected. The model fixes the *shape* (xyz dependence, per-PMT split);
// absolute scales come from g1 and the single-electron gain (see LXeResponse), and the S2
// top/bottom split is rescaled to the detector's s2_area_fraction_top.
#ifndef TPCML_LXE_OPTICS_H
#define TPCML_LXE_OPTICS_H

#include <cstddef>
#include <string>
#include <vector>

namespace tpcml {

class DetectorConfig;

/// Positions of one PMT array (mm) in the detector frame.
struct PmtArray {
   std::vector<double> x;
   std::vector<double> y;
   double z = 0.;             ///< photocathode plane (mm)
   double cathodeRadius = 0.; ///< photocathode radius (mm)
   std::size_t size() const { return x.size(); }
};

/// PMT positions on a hexagonal grid of pitch `pitch`, the n positions nearest the axis
/// (ties broken by azimuth): 55 = the 61-position hexagon without its 6 corners.
PmtArray hexPmtArray(std::size_t n, double pitch);

class LXeOptics {
public:
   explicit LXeOptics(const DetectorConfig &detector);

   std::size_t nTop() const { return m_top.size(); }
   std::size_t nBottom() const { return m_bottom.size(); }
   std::size_t nPmt() const { return m_top.size() + m_bottom.size(); }
   const PmtArray &top() const { return m_top; }
   const PmtArray &bottom() const { return m_bottom; }
   double liquidSurface() const { return m_zSurface; }
   double s2EmissionZ() const { return m_zS2; }
   double tpcRadius() const { return m_radius; }
   double driftLength() const { return m_driftLength; }

   /// Probability that an S1 photon emitted at (x, y, z) is detected by each PMT (top
   /// array first, then bottom); `out` has nPmt() elements. Returns the sum (the LCE).
   double s1Collection(double x, double y, double z, double *out) const;
   /// Same for S2 light from (x, y) in the gas gap; top array scaled by s2TopScale().
   double s2Collection(double x, double y, double *out) const;
   std::vector<double> s1Collection(double x, double y, double z) const;
   std::vector<double> s2Collection(double x, double y) const;

   /// Unpolarised Fresnel transmission from a medium of index n1 into n2 at incidence angle
   /// with cosine cosI (0 beyond the critical angle).
   static double fresnelTransmission(double n1, double n2, double cosI);
   /// Solid angle (sr) of a disc of radius a at distance d seen at incidence cosine cosT.
   static double discSolidAngle(double a, double d, double cosT);

   /// Factor applied to the top-array S2 collection so that the mean top fraction over the
   /// fiducial volume equals the detector's s2_area_fraction_top.
   double s2TopScale() const { return m_s2TopScale; }

private:
   double s2CollectionUnscaled(double x, double y, double *out) const;

   PmtArray m_top, m_bottom;
   double m_radius = 0., m_driftLength = 0., m_zSurface = 0., m_zS2 = 0.;
   double m_n = 1.;              ///< LXe refractive index
   double m_ptfe = 0.;           ///< PTFE reflectivity
   double m_rayleigh = 0.;       ///< Rayleigh scattering length (mm)
   double m_epsDiffuseS1 = 0.;   ///< integrating-sphere efficiency, S1 weights
   double m_epsDiffuseS2 = 0.;   ///< integrating-sphere efficiency, S2 weights
   double m_topWeightS1 = 0.;    ///< w_top / sum_j w_j A_j for S1 (per unit area)
   double m_bottomWeightS1 = 0.; ///< w_bottom / sum_j w_j A_j for S1
   double m_weightS2 = 0.;       ///< 1 / sum_j A_j for S2
   double m_s2TopScale = 1.;
};

} // namespace tpcml

#endif // TPCML_LXE_OPTICS_H
