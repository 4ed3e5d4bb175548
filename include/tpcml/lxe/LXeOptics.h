// tpcml -- light collection in a dual-phase LXe TPC: per-PMT detection probabilities.
//
// One model for every LXe detector of the registry (PandaX-II, XENON1T, XENONnT, DARWIN);
// all numbers come from the detector file. Geometry (z = 0 at the gate, docs/event-model.md):
// liquid surface at z_s = liquid_level_above_gate; top photocathodes at z_s + top_array_distance
// (facing down); bottom photocathodes at -drift_length - bottom_array_distance (facing up);
// S2 light emitted in the middle of the gas gap, z_s + gas_gap / 2.
//
// S1 light (emitted in the liquid at P = (x, y, z)): the probability to reach PMT i is
//   p_i(P) = direct_i(P) + (T(r, z) - sum_top direct) / n_top       (i on the top array)
//   p_i(P) = direct_i(P) + (B(r, z) - sum_bottom direct) / n_bottom (i on the bottom array)
// (a negative remainder counts as 0), so that sum_i p_i = the LCE and the top fraction is T / (T + B):
//   * direct_i: the unscattered first flight to the photocathode disc (radius a, distance d, incidence
//     cos t): Omega_i / 4pi = (1 - 1 / sqrt(1 + a^2 cos t / d^2)) / 2 (exact on the axis, A cos t / 4 pi d^2
//     far away), times the Fresnel transmission through the liquid surface (top array; 0 beyond the
//     critical angle arcsin(1/n)) or, for the bottom array, plus the specular reflection at the surface
//     (image point), times exp(-l / lambda_R) (Rayleigh scattering length);
//   * T(r, z), B(r, z): the probability that a photon from (r, z) ends on the top / bottom array by any
//     path, tabulated once per geometry by a Monte Carlo of S1LightMap::kPhotons photons per node on a
//     kNr x kNz (r, z) grid (S1LightMap, cached per process): isotropic emission; Rayleigh scattering
//     (isotropic re-emission, an approximation of the 1 + cos^2 law) in the liquid; Lambertian reflection
//     with probability ptfe_reflectivity at the PTFE wall (r = tpc_radius, in liquid and gas) and at the
//     PTFE between the photocathodes of each array plane; detection on an array plane with probability
//     equal to its photocathode coverage n_pmt a^2 / tpc_radius^2; Fresnel transmission with refraction,
//     or specular reflection (total internal reflection beyond the critical angle), at the liquid
//     surface from either side; each crossing of an electrode mesh (gate and cathode in the liquid, the
//     anode and the bottom screening mesh in front of the arrays) passes with probability
//     T(theta) = max(0, 1 - (1 - electrode_transparency) / cos theta) (the opaque fraction of a planar wire
//     grid seen perpendicular to its wires grows as 1 / cos theta; an approximation for meshes); where the
//     detector sets the optional lxe_absorption_length lambda_A, absorption in the liquid (exponential path
//     length, also exp(-l / lambda_A) on the direct S1 term; S2 light is not attenuated). Neglected:
//     reflection at the PMT windows, a lower PTFE reflectivity in the gas. Between nodes
//     T and B are bilinear in (r, z): per event the cost is the O(n_pmt) direct term plus one map lookup.
// Real TPCs (XENON1T: Aprile et al., EPJC 77 (2017) 881; PRD 100 (2019) 052014) show an S1 area fraction
// top rising from ~0.1 near the cathode to ~0.4-0.5 below the gate and an S1 light collection ~2x larger
// deep in the liquid than below the gate: light emitted deep reaches the top only through the narrow escape
// cone of the surface, light near the gate sees the top array directly. The model reproduces the top
// fraction; its light-collection variation is smaller (~1.3x, docs/detector-format.md "S1 light model"). Where a
// detector ships a measured S1 light-yield map (optional key s1_light_yield_map; XENON1T: the Kr83m maps of
// SR0/SR1, 1.9x over the SR0 FV), the per-PMT probabilities are scaled by c(r, z) = (map / its mean) / (model LCE /
// its mean), means over the map's nodes weighted by r (volume): the map fixes the LCE's (r, z) shape, the model
// the top/bottom split and the per-PMT pattern, as XENON's WFSim applies its s1_lce_correction_map.
//
// S2 light (emitted in the gas, analytic, no map): direct_i as above (top: direct + reflection at the
// surface; bottom: transmission into the liquid), plus diffuse_i = f_pool * eps_d / n_pmt with
// f_pool = 1 - sum_i direct_i and eps_d = C / (C + (1 - R_PTFE)(1 - C)) the integrating-sphere
// probability that a diffuse photon ends on a photocathode (C: photocathode fraction of the inner
// surface). The S2 top/bottom split is rescaled to the detector's s2_area_fraction_top.
// The model fixes the *shape* (xyz dependence, per-PMT split); absolute scales come from g1 and the
// single-electron gain (see LXeResponse).
//
// PMT positions: pmt_layout = "hex" (hexPmtArray of pmt_pitch) or "file:<table>", a CSV relative to the
// detector file's directory with columns array (top/bottom) and x_mm, y_mm (mm) or x_cm, y_cm / x, y (cm).
#ifndef TPCML_LXE_OPTICS_H
#define TPCML_LXE_OPTICS_H

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
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

/// The top and bottom arrays of a PMT position table (see the header comment); ConfigError naming the
/// file, line and field on bad input.
std::pair<PmtArray, PmtArray> readPmtTable(const std::string &path);

struct MapRng; ///< the map's own random generator (LXeOptics.cxx)

/// S1 collection per array, T(r, z) and B(r, z), tabulated by a photon Monte Carlo (see above).
class S1LightMap {
public:
   static constexpr int kNr = 9, kNz = 25, kPhotons = 2000;
   struct Geometry {
      double radius = 0., zCathode = 0., zSurface = 0., zTop = 0., zBottom = 0.; ///< mm
      double n = 1., ptfe = 0., rayleigh = 0., coverTop = 0., coverBottom = 0.;
      double mesh = 1.;       ///< optical transparency of one electrode-mesh crossing
      double absorption = 0.; ///< LXe absorption length (mm); 0 = no absorption
   };
   enum class Photon { kTop, kBottom, kLost };
   static std::shared_ptr<const S1LightMap> build(const Geometry &g, int nr, int nz, int photons);
   double top(double r, double z) const { return interpolate(m_top, r, z); }
   double bottom(double r, double z) const { return interpolate(m_bottom, r, z); }
   const Geometry &geometry() const { return m_geom; }

private:
   static Photon trace(double r0, double z0, const Geometry &g, MapRng &rng);
   double interpolate(const std::vector<double> &v, double r, double z) const;
   Geometry m_geom;
   int m_nr = 0, m_nz = 0;
   std::vector<double> m_top, m_bottom; ///< [ir][iz]
};

/// The S1 light map of this detector geometry, built once per process and shared.
std::shared_ptr<const S1LightMap> s1LightMap(const DetectorConfig &detector, const class LXeOptics &optics);

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

   /// Factor applied to the model's S1 collection at (r, z) so that its shape follows the detector's measured
   /// s1_light_yield_map (1 where the detector has none).
   double s1LightYieldCorrection(double r, double z) const;
   bool hasS1LightYieldMap() const { return !m_lyCorr.empty(); }

   /// S1 top fraction (sum over top PMTs / LCE) at (x, y, z).
   double s1TopFraction(double x, double y, double z) const;
   const S1LightMap &s1Map() const { return *m_s1Map; }

   /// Factor applied to the top-array S2 collection so that the mean top fraction over the
   /// fiducial volume equals the detector's s2_area_fraction_top.
   double s2TopScale() const { return m_s2TopScale; }

private:
   double s2CollectionUnscaled(double x, double y, double *out) const;
   void loadS1LightYieldMap(const DetectorConfig &detector, const std::string &path);

   PmtArray m_top, m_bottom;
   double m_radius = 0., m_driftLength = 0., m_zSurface = 0., m_zS2 = 0.;
   double m_n = 1.;            ///< LXe refractive index
   double m_ptfe = 0.;         ///< PTFE reflectivity
   double m_rayleigh = 0.;     ///< Rayleigh scattering length (mm)
   double m_absorption = 0.;   ///< LXe absorption length (mm), optional key lxe_absorption_length; 0 = none
   double m_epsDiffuseS2 = 0.; ///< integrating-sphere efficiency, S2 weights
   double m_weightS2 = 0.;     ///< 1 / sum_j A_j for S2
   double m_s2TopScale = 1.;
   std::shared_ptr<const S1LightMap> m_s1Map;
   /// s1_light_yield_map: nodes (mm) and the correction (measured / model relative yield) on the [ir][iz] grid.
   std::vector<double> m_lyR, m_lyZ, m_lyCorr;
};

} // namespace tpcml

#endif // TPCML_LXE_OPTICS_H
